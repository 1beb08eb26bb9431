import { parseArgs } from 'node:util'
import { loadConfig, type ShieldwallConfig } from '../../config/index.ts'
import { BouncerKeys, type BouncerInfo } from '../bouncer/bouncer-keys.ts'
import { openStore } from '../store/open-store.ts'
import { runningNodeApi } from './running-node.ts'

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
  const call = await runningNodeApi(config, '/api/bouncers', (status, message) => {
    const err = new BouncerCommandError(message)
    err.name = STATUS_ERRORS[status] ?? err.name
    return err
  })
  if (call === undefined) return undefined
  const fromApi = (b: Record<string, any>): BouncerInfo => ({
    name: b.name,
    createdAt: Date.parse(b.createdAt),
    ...(b.lastPull ? { lastPull: Date.parse(b.lastPull) } : {}),
  })
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
