import { request, type ClientRequest, type IncomingMessage } from 'node:http'
import { expect } from 'vitest'
import type { StreamGate } from '../../node/bouncer/stream-gate.ts'
import { loadConfig } from '../../config/index.ts'
import { silentLogger } from '../../node/logging/logger.ts'
import { ShieldwallNode } from '../../node/shieldwall-node.ts'
import { writeSyntheticStore } from '../../bench/decisions/synthetic-blocklist.ts'
import { tempDir, waitFor } from './test-node.ts'

/**
 * The size of list that broke nodes in issue 15 (110,000 entries), with stream caps small enough to fill quickly
 * and the smallest buffer `api.streams.bufferBytes` allows.
 */
export const LARGE_LIST = { entries: 110_000, perToken: 6, total: 10, bufferBytes: 128 * 1024 } as const

/** A response whose body is never read. */
export interface Idle {
  req: ClientRequest
  res: IncomingMessage
}

/** Opens a stream and never reads its body (no 'data' listener: the socket stops reading once it is full). */
export function openIdle(base: string, path: string, token: string): Promise<Idle> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { headers: { authorization: `Bearer ${token}` }, agent: false })
    req.once('response', (res) => resolve({ req, res }))
    req.once('error', reject)
    req.end()
  })
}

export async function readText(res: IncomingMessage): Promise<string> {
  let text = ''
  res.setEncoding('utf8')
  for await (const chunk of res) text += chunk
  return text
}

export async function readJson(res: IncomingMessage): Promise<any> {
  return JSON.parse(await readText(res))
}

/**
 * A real node on 127.0.0.1 whose store holds `entries` synthetic blocklist entries
 * (bench/decisions/synthetic-blocklist.ts, expiring an hour or more from now), with `api.streams` as given.
 * `clock` is the node's clock: a test moves it past `stallSeconds` to have the gate's sweep find stalls.
 */
export async function startLargeListNode(options: {
  entries: number
  streams: Record<string, number>
  clock?: () => number
  prefix?: string
}): Promise<ShieldwallNode> {
  const dataDir = await tempDir(options.prefix ?? 'shieldwall-streams-')
  await writeSyntheticStore(dataDir, options.entries, 0)
  const config = loadConfig({
    env: {},
    cli: {
      dataDir,
      api: { host: '127.0.0.1', port: 0, streams: options.streams },
      p2p: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      log: { level: 'silent' },
    },
  })
  const node = new ShieldwallNode(config, {
    logger: silentLogger(),
    ...(options.clock !== undefined ? { clock: options.clock } : {}),
  })
  await node.start()
  return node
}

/**
 * Fills a node's stream caps from two new read tokens: `perToken` idle streams on the first, which is then refused
 * one more with 429 (retry-after 10), and the rest of `total` on the second, which is then refused for the node's
 * total. The admitted streams are pushed onto `idle` as they open (so a failing test still closes them); the two
 * tokens and the two refusals' bodies are returned.
 */
export async function fillStreamCaps(
  node: ShieldwallNode,
  path: string,
  caps: { perToken: number; total: number },
  idle: Idle[],
): Promise<{ tokens: [string, string]; overToken: any; overTotal: any }> {
  const base = node.apiUrl
  const a = (await node.tokens.create({ scope: 'read', name: 'reader-a' })).token
  const b = (await node.tokens.create({ scope: 'read', name: 'reader-b' })).token
  for (let i = 0; i < caps.perToken; i++) idle.push(await openIdle(base, path, a))
  expect(idle.map((s) => s.res.statusCode)).toEqual(Array(caps.perToken).fill(200))
  const overTokenRes = await openIdle(base, path, a)
  expect(overTokenRes.res.statusCode).toBe(429)
  expect(overTokenRes.res.headers['retry-after']).toBe('10')
  const overToken = await readJson(overTokenRes.res)
  expect(overToken.error.message).toContain('for this token')

  for (let i = caps.perToken; i < caps.total; i++) idle.push(await openIdle(base, path, b))
  expect(idle.map((s) => s.res.statusCode)).toEqual(Array(caps.total).fill(200))
  const overTotalRes = await openIdle(base, path, b)
  expect(overTotalRes.res.statusCode).toBe(429)
  const overTotal = await readJson(overTotalRes.res)
  expect(overTotal.error.message).toContain('on this node')
  return { tokens: [a, b], overToken, overTotal }
}

/** Waits until the gate holds `count` streams, each handed what its socket would take and waiting for its client. */
export async function waitForIdleStreams(
  gate: StreamGate,
  count: number,
  timeoutMs: number,
  what: string,
): Promise<void> {
  await waitFor(
    () =>
      gate.streams().length === count &&
      gate.streams().every((s) => s.waitingSince !== undefined && (s.queued ?? 0) > 0),
    timeoutMs,
    what,
  )
}

/** Every stream the gate holds keeps at most `bufferBytes` unsent and has sent something. */
export function expectBoundedQueues(gate: StreamGate, bufferBytes: number): void {
  for (const s of gate.streams()) {
    expect(s.queued).toBeDefined()
    expect(s.queued as number).toBeLessThanOrEqual(bufferBytes)
    expect(s.bytes).toBeGreaterThan(0)
  }
}
