import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exportBlocklist as wholeStringExport } from '../node/blocklist/test-fixtures/whole-string-exporters.ts'
import { entryView } from '../node/api/routes/blocklist.ts'
import type { ShieldwallNode } from '../node/shieldwall-node.ts'
import {
  expectBoundedQueues,
  fillStreamCaps,
  LARGE_LIST,
  openIdle,
  readJson,
  readText,
  startLargeListNode,
  waitForIdleStreams,
  type Idle,
} from './helpers/idle-streams.ts'
import { stopAndRemove, waitFor } from './helpers/test-node.ts'

/**
 * Issue 15, finding 2, the last hole: `GET /api/defense/network/blocklist?format=nft|ipset|nginx|plain` built the
 * whole export as one string per request (3 to 5 MB for 110,000 entries) and handed it to the socket at once, so
 * a read token opening hundreds of connections that never read made the node hold that much per connection, the
 * amplification that crashed it through the SSE route. Here a real node with 110,000 entries gets idle export
 * readers on real sockets: past `api.streams` caps they are refused with 429, each admitted one holds at most
 * `bufferBytes` unsent, readers left idle `stallSeconds` are cut off, and a reader that reads gets the same bytes
 * the whole-string exporter wrote.
 */

const { entries: ENTRIES, perToken: PER_TOKEN, total: TOTAL, bufferBytes: BUFFER_BYTES } = LARGE_LIST
const STALL_SECONDS = 60

describe('idle export readers on a 110,000-entry blocklist', () => {
  let node: ShieldwallNode
  // the node's clock: moved past stallSeconds to let the gate's sweep find the stalled readers
  let skew = 0
  const idle: Idle[] = []

  beforeAll(async () => {
    node = await startLargeListNode({
      entries: ENTRIES,
      streams: {
        maxPerToken: PER_TOKEN,
        maxTotal: TOTAL,
        bufferBytes: BUFFER_BYTES,
        stallSeconds: STALL_SECONDS,
      },
      clock: () => Date.now() + skew,
      prefix: 'shieldwall-exports-',
    })
  }, 120_000)

  afterAll(async () => {
    for (const { req } of idle) req.destroy()
    if (node !== undefined) await stopAndRemove(node)
  })

  it('refuses exports past the caps, bounds what each idle one holds unsent and cuts off stalled ones', async () => {
    expect(node.blocklist.size).toBeGreaterThan(ENTRIES * 0.99)
    const base = node.apiUrl
    // The largest export (ipset, timeouts, the longest name: about 7 MB here), so that each is far more than the
    // kernel's socket buffers take on loopback and the rest would wait in the node's memory.
    const path = `/api/defense/network/blocklist?format=ipset&timeouts=1&name=${'a'.repeat(23)}`
    const {
      tokens: [a],
    } = await fillStreamCaps(node, path, { perToken: PER_TOKEN, total: TOTAL }, idle)

    // Every export has been handed what its socket would take and now waits for its client.
    const gate = node.bouncers.streams
    await waitForIdleStreams(gate, TOTAL, 120_000, 'every export to wait for its idle client')
    expect(gate.streams().map((s) => s.kind)).toEqual(Array(TOTAL).fill('export'))
    expectBoundedQueues(gate, BUFFER_BYTES)
    const health = await fetch(`${base}/healthz`)
    expect(health.status).toBe(200)

    // Left unread for stallSeconds: cut off, and their slots are free again.
    skew += (STALL_SECONDS + 1) * 1000
    expect(gate.sweep()).toBe(TOTAL)
    expect(gate.counts.open).toBe(0)
    const closed = await Promise.all(
      idle.splice(0).map(
        ({ res }) =>
          new Promise<boolean>((resolve) => {
            if (res.destroyed) return resolve(true)
            res.once('close', () => resolve(true))
            res.resume()
          }),
      ),
    )
    expect(closed).toEqual(Array(TOTAL).fill(true))
    const again = await openIdle(base, path, a)
    expect(again.res.statusCode).toBe(200)
    again.req.destroy()
  }, 300_000)

  it('writes a reader that reads the same bytes as the whole-string exporter', async () => {
    const token = (await node.tokens.create({ scope: 'read', name: 'reader-c' })).token
    await waitFor(() => node.bouncers.streams.counts.open === 0, 30_000, 'the earlier streams to close')
    for (const format of ['nft', 'ipset', 'nginx', 'plain'] as const) {
      const expected = wholeStringExport(format, [...node.blocklist.entries()], { now: Date.now() + skew })
      const res = await openIdle(base(), `/api/defense/network/blocklist?format=${format}`, token)
      expect(res.res.statusCode).toBe(200)
      const text = await readText(res.res)
      expect(text.length).toBe(expected.length)
      expect(text === expected, `${format} export differs from the whole-string export`).toBe(true)
    }
  }, 300_000)

  it('puts long JSON pages under the same caps and writes them as c.json did', async () => {
    const token = (await node.tokens.create({ scope: 'read', name: 'reader-d' })).token
    const gate = node.bouncers.streams
    await waitFor(() => gate.counts.open === 0, 30_000, 'the earlier streams to close')
    const path = '/api/defense/network/blocklist?limit=100000'
    const pages: Idle[] = []
    try {
      for (let i = 0; i < PER_TOKEN; i++) pages.push(await openIdle(base(), path, token))
      expect(pages.map((s) => s.res.statusCode)).toEqual(Array(PER_TOKEN).fill(200))
      const over = await openIdle(base(), path, token)
      expect(over.res.statusCode).toBe(429)
      expect((await readJson(over.res)).error.message).toContain('for this token')
      await waitForIdleStreams(gate, PER_TOKEN, 120_000, 'every page to wait for its idle client')
      for (const s of gate.streams()) {
        expect(s.kind).toBe('list')
        expect(s.queued as number).toBeLessThanOrEqual(BUFFER_BYTES)
      }
    } finally {
      for (const { req } of pages) req.destroy()
    }
    await waitFor(() => gate.counts.open === 0, 30_000, 'the pages to close')

    // what the route answered in one piece before, for a page that is written in pieces now
    const bl = node.blocklist
    const { total, entries } = bl.recent({ limit: 5000 })
    const items = (await bl.withDetails(entries)).map(entryView)
    const expected = JSON.stringify({ total, items, allowlist: bl.allowlist.entries(), stats: bl.stats() })
    const res = await openIdle(base(), '/api/defense/network/blocklist?limit=5000', token)
    expect(res.res.statusCode).toBe(200)
    expect(res.res.headers['content-type']).toMatch(/^application\/json/)
    const text = await readText(res.res)
    expect(text === expected, 'the page differs from the one-piece answer').toBe(true)
  }, 300_000)

  const base = () => node.apiUrl
})
