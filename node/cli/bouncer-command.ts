import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { loadConfig, type ShieldwallConfig } from '../../config/index.ts'
import { TOKEN_FILE } from '../api/api-token.ts'
import { BouncerKeys, type BouncerInfo } from '../bouncer/bouncer-keys.ts'
import type { ApiEndpointFile } from '../shieldwall-node.ts'
import { openStore } from '../store/open-store.ts'

export const BOUNCER_USAGE = `usage:
  shieldwall bouncer add NAME [--config FILE] [--data-dir DIR] [--json]   register a bouncer; prints its key once
  shieldwall bouncer list [--config FILE] [--data-dir DIR] [--json]
  shieldwall bouncer delete NAME [--config FILE] [--data-dir DIR]

Bouncers use CrowdSec's API on this node: api_url = the node's API address, api_key = the printed key.
`

export class BouncerCommandError extends Error {
  override name = 'BouncerCommandError'
}

/** Exact errors from the admin API, rebuilt under the names the store path throws, so both read the same. */
const STATUS_ERRORS: Record<number, string> = {
  400: 'InvalidBouncerNameError',
  404: 'UnknownBouncerError',
  409: 'DuplicateBouncerError',
}

/** The same three operations through the running node's admin API, or on the store when no node runs. */
interface BouncerAdmin {
  add(name: string): Promise<{ bouncer: BouncerInfo; key: string }>
  list(): Promise<BouncerInfo[]>
  delete(name: string): Promise<void>
  close(): Promise<void>
}

async function viaApi(config: ShieldwallConfig): Promise<BouncerAdmin | undefined> {
  let endpoint: ApiEndpointFile
  try {
    endpoint = JSON.parse(await readFile(join(config.dataDir, 'api.json'), 'utf8'))
  } catch {
    return undefined
  }
  const token = config.api.token ?? (await readFile(join(config.dataDir, TOKEN_FILE), 'utf8')).trim()
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${endpoint.url}/api/bouncers${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(5000),
    })
    const json = res.status === 204 ? undefined : ((await res.json()) as Record<string, any>)
    if (!res.ok) {
      const err = new BouncerCommandError(json?.error?.message ?? `${method} failed with ${res.status}`)
      err.name = STATUS_ERRORS[res.status] ?? err.name
      throw err
    }
    return json
  }
  const fromApi = (b: Record<string, any>): BouncerInfo => ({
    name: b.name,
    createdAt: Date.parse(b.createdAt),
    ...(b.lastPull ? { lastPull: Date.parse(b.lastPull) } : {}),
  })
  // A stale api.json (the node crashed) must not hide the store: probe first.
  try {
    await call('GET', '')
  } catch (err) {
    if ((err as Error).name === 'TypeError' || (err as Error).name === 'TimeoutError') return undefined
    throw err
  }
  return {
    async add(name) {
      const json = (await call('POST', '', { name })) as Record<string, any>
      return { bouncer: fromApi(json), key: json.key }
    },
    async list() {
      const json = (await call('GET', '')) as { items: Record<string, any>[] }
      return json.items.map(fromApi)
    },
    async delete(name) {
      await call('DELETE', `/${encodeURIComponent(name)}`)
    },
    async close() {},
  }
}

async function viaStore(config: ShieldwallConfig): Promise<BouncerAdmin> {
  const store = await openStore(config.dataDir)
  const keys = new BouncerKeys(store)
  await keys.open()
  return {
    add: (name) => keys.add(name),
    list: async () => keys.list(),
    delete: (name) => keys.delete(name),
    close: () => store.close(),
  }
}

/** `shieldwall bouncer add|list|delete`: writes its result to stdout. */
export async function bouncerCommand(
  argv: string[],
  out: NodeJS.WritableStream = process.stdout,
): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      'data-dir': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  const [action, name, ...extra] = positionals
  if (values.help || action === undefined) return void out.write(BOUNCER_USAGE)
  const needsName = action === 'add' || action === 'delete'
  if (!['add', 'list', 'delete'].includes(action)) {
    throw new BouncerCommandError(`bouncer: unknown action "${action}"\n\n${BOUNCER_USAGE}`)
  }
  if ((needsName && name === undefined) || extra.length > 0 || (!needsName && name !== undefined)) {
    throw new BouncerCommandError(`bouncer ${action}: ${needsName ? 'give one NAME' : 'takes no NAME'}`)
  }
  const config = loadConfig({
    file: values.config,
    env: process.env,
    cli: values['data-dir'] !== undefined ? { dataDir: values['data-dir'] } : {},
  })
  const admin = (await viaApi(config)) ?? (await viaStore(config))
  try {
    if (action === 'add') {
      const { bouncer, key } = await admin.add(name)
      if (values.json) return void out.write(JSON.stringify({ name: bouncer.name, key }) + '\n')
      out.write(
        `Bouncer "${bouncer.name}" added. Its API key (shown once, not stored; put it in the bouncer's config):\n\n` +
          `  ${key}\n\n`,
      )
    } else if (action === 'delete') {
      await admin.delete(name)
      if (!values.json) out.write(`Bouncer "${name}" deleted; its key no longer works.\n`)
    } else {
      const list = await admin.list()
      const iso = (t?: number) => (t === undefined ? null : new Date(t).toISOString())
      if (values.json) {
        const items = list.map((b) => ({
          name: b.name,
          createdAt: iso(b.createdAt),
          lastPull: iso(b.lastPull),
        }))
        return void out.write(JSON.stringify(items) + '\n')
      }
      if (list.length === 0) return void out.write('no bouncers; add one with: shieldwall bouncer add NAME\n')
      const width = Math.max(4, ...list.map((b) => b.name.length))
      out.write(`${'NAME'.padEnd(width)}  CREATED                   LAST PULL\n`)
      for (const b of list) {
        out.write(`${b.name.padEnd(width)}  ${iso(b.createdAt)}  ${iso(b.lastPull) ?? 'never'}\n`)
      }
    }
  } finally {
    await admin.close()
  }
}
