import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig, type ShieldwallConfig } from '../../config/index.ts'
import { silentLogger } from '../../node/logging/logger.ts'
import { ShieldwallNode } from '../../node/shieldwall-node.ts'

export async function tempDir(prefix = 'shieldwall-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix))
}

/** A real node on loopback: real libp2p over TCP, real level in a temp dir, API on an ephemeral port. */
export async function startTestNode(
  overrides: { dataDir?: string; cli?: Record<string, unknown> } = {},
): Promise<ShieldwallNode> {
  const dataDir = overrides.dataDir ?? (await tempDir())
  const config: ShieldwallConfig = loadConfig({
    env: {},
    cli: {
      dataDir,
      api: { host: '127.0.0.1', port: 0 },
      p2p: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      log: { level: 'silent' },
      ...overrides.cli,
    },
  })
  const node = new ShieldwallNode(config, { logger: silentLogger() })
  await node.start()
  return node
}

export async function stopAndRemove(...nodes: ShieldwallNode[]): Promise<void> {
  for (const node of nodes) {
    await node.stop()
    await rm(node.config.dataDir, { recursive: true, force: true })
  }
}

export async function api(node: ShieldwallNode, path: string, init: RequestInit & { json?: unknown } = {}) {
  const headers = new Headers(init.headers)
  if (!headers.has('authorization')) headers.set('authorization', `Bearer ${node.apiToken.token}`)
  let body = init.body
  if (init.json !== undefined) {
    headers.set('content-type', 'application/json')
    body = JSON.stringify(init.json)
  }
  const res = await fetch(node.apiUrl + path, { ...init, headers, body })
  const text = await res.text()
  let json: any
  try {
    json = JSON.parse(text)
  } catch {
    json = text
  }
  return { status: res.status, body: json }
}

/**
 * The shortest a wait may give up after. A wait ends as soon as its condition holds; its timeout only ends a
 * broken run, and CI runs the suite on a loaded 2-core machine where a few seconds is not "broken". How fast
 * something happens belongs in a benchmark, not in a wait's timeout.
 */
export const MIN_WAIT_MS = 30_000

/** Polls until `check` returns a truthy value or the deadline (at least MIN_WAIT_MS) passes. */
export async function waitFor<T>(
  check: () => Promise<T> | T,
  timeoutMs = MIN_WAIT_MS,
  what = 'condition',
): Promise<NonNullable<T>> {
  const limit = Math.max(timeoutMs, MIN_WAIT_MS)
  const deadline = Date.now() + limit
  for (;;) {
    const value = await check()
    if (value) return value as NonNullable<T>
    if (Date.now() > deadline) throw new Error(`timed out after ${limit} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}
