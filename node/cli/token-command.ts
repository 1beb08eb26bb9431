import { parseArgs } from 'node:util'
import { loadConfig, type ShieldwallConfig } from '../../config/index.ts'
import { TOKEN_SCOPES, type TokenScope } from '../api/auth/scopes.ts'
import { TokenStore, type TokenRecord } from '../api/auth/token-store.ts'
import { openStore } from '../store/open-store.ts'
import { runningNodeApi } from './running-node.ts'

export class TokenCommandError extends Error {
  override name = 'TokenCommandError'
}

const USAGE = `usage:
  shieldwall token create --scope admin|read|bouncer [--name NAME] [--ttl SECONDS] [--json]
  shieldwall token list [--json]
  shieldwall token revoke ID
options: [--config FILE] [--data-dir DIR]
scopes: admin (everything), read (GET routes, the dashboard, /metrics), bouncer (/v1/decisions* only)
`

interface TokenAdmin {
  create(input: {
    scope: TokenScope
    name?: string
    ttlSeconds?: number
  }): Promise<{ token: string; record: TokenRecord }>
  list(): Promise<TokenRecord[]>
  revoke(id: string): Promise<void>
  close(): Promise<void>
}

/** The running node holds the store's lock, so ask it; a stopped node's store is opened directly. */
async function viaApi(config: ShieldwallConfig): Promise<TokenAdmin | undefined> {
  const call = await runningNodeApi(
    config,
    '/api/tokens',
    (_status, message) => new TokenCommandError(message),
  )
  if (call === undefined) return undefined
  return {
    async create(input) {
      const { token, ...record } = (await call('POST', '', input)) as Record<string, any>
      return { token, record: record as TokenRecord }
    },
    list: async () => ((await call('GET', '')) as { items: TokenRecord[] }).items,
    revoke: async (id) => void (await call('DELETE', `/${encodeURIComponent(id)}`)),
    close: async () => {},
  }
}

async function viaStore(config: ShieldwallConfig): Promise<TokenAdmin> {
  const store = await openStore(config.dataDir)
  const tokens = new TokenStore(store)
  await tokens.open()
  return {
    create: (input) => tokens.create(input),
    list: async () => tokens.list(),
    revoke: (id) => tokens.revoke(id),
    close: () => store.close(),
  }
}

/** `shieldwall token create|list|revoke`: scoped API tokens; a created token is printed once. */
export async function tokenCommand(
  argv: string[],
  out: NodeJS.WritableStream = process.stdout,
): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      scope: { type: 'string' },
      name: { type: 'string' },
      ttl: { type: 'string' },
      json: { type: 'boolean' },
      config: { type: 'string' },
      'data-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  const [action, id] = positionals
  if (values.help || action === undefined) return void out.write(USAGE)
  const config = loadConfig({
    file: values.config,
    env: process.env,
    cli: values['data-dir'] !== undefined ? { dataDir: values['data-dir'] } : {},
  })
  const admin = (await viaApi(config)) ?? (await viaStore(config))
  try {
    if (action === 'create') {
      const scope = values.scope as TokenScope | undefined
      if (scope === undefined || !TOKEN_SCOPES.includes(scope))
        throw new TokenCommandError(`--scope must be one of ${TOKEN_SCOPES.join(', ')}\n\n${USAGE}`)
      const ttl = values.ttl !== undefined ? Number(values.ttl) : undefined
      if (ttl !== undefined && !(Number.isInteger(ttl) && ttl >= 60))
        throw new TokenCommandError('--ttl: whole seconds, at least 60')
      const { token, record } = await admin.create({
        scope,
        ...(values.name !== undefined ? { name: values.name } : {}),
        ...(ttl !== undefined ? { ttlSeconds: ttl } : {}),
      })
      out.write(
        values.json
          ? JSON.stringify({ token, ...record }) + '\n'
          : `${token}\n(scope ${record.scope}, id ${record.id}; shown only now: keep it somewhere safe)\n`,
      )
    } else if (action === 'list') {
      const items = await admin.list()
      out.write(
        values.json
          ? JSON.stringify(items) + '\n'
          : items.map((t) => `${t.id}  ${t.scope.padEnd(7)}  ${t.name}`).join('\n') +
              (items.length ? '\n' : ''),
      )
    } else if (action === 'revoke') {
      if (id === undefined) throw new TokenCommandError('token revoke ID: which token?')
      await admin.revoke(id)
      out.write(`revoked ${id}\n`)
    } else {
      throw new TokenCommandError(`unknown action "${action}"\n\n${USAGE}`)
    }
  } finally {
    await admin.close()
  }
}
