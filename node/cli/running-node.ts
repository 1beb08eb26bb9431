import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ShieldwallConfig } from '../../config/index.ts'
import { TOKEN_FILE } from '../api/api-token.ts'
import type { ApiEndpointFile } from '../shieldwall-node.ts'

/** A JSON call to one resource of the running node's admin API; throws `toError(status, message)` on failure. */
export type AdminCall = (
  method: string,
  path: string,
  body?: unknown,
) => Promise<Record<string, any> | undefined>

/**
 * The running node's admin API for one resource (e.g. `/api/bouncers`), or undefined when no node runs for this
 * data dir. A running node holds the store's lock, so commands that change the store must go through it; a
 * stale `api.json` (the node crashed) must not hide the store, so the resource is probed first.
 */
export async function runningNodeApi(
  config: ShieldwallConfig,
  resource: string,
  toError: (status: number, message: string) => Error,
): Promise<AdminCall | undefined> {
  let endpoint: ApiEndpointFile
  try {
    endpoint = JSON.parse(await readFile(join(config.dataDir, 'api.json'), 'utf8'))
  } catch {
    return undefined
  }
  const token = config.api.token ?? (await readFile(join(config.dataDir, TOKEN_FILE), 'utf8')).trim()
  const call: AdminCall = async (method, path, body) => {
    const res = await fetch(`${endpoint.url}${resource}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(5000),
    })
    const json = res.status === 204 ? undefined : ((await res.json()) as Record<string, any>)
    if (!res.ok) throw toError(res.status, json?.error?.message ?? `${method} failed with ${res.status}`)
    return json
  }
  try {
    await call('GET', '')
  } catch (err) {
    if ((err as Error).name === 'TypeError' || (err as Error).name === 'TimeoutError') return undefined
    throw err
  }
  return call
}
