import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ShieldwallNode } from '../node/shieldwall-node.ts'
import {
  expectBoundedQueues,
  fillStreamCaps,
  LARGE_LIST,
  openIdle,
  startLargeListNode,
  waitForIdleStreams,
  type Idle,
} from './helpers/idle-streams.ts'
import { stopAndRemove, waitFor } from './helpers/test-node.ts'

/**
 * Issue 15, finding 2: with 110,000 blocklist entries, a few hundred clients holding a read token opened
 * `GET /api/defense/decisions/stream?snapshot=true` and never read; each cost about 27 MB of heap (its own copy
 * of the list, built up front), /healthz stopped answering and the node died out of memory. Here a real node
 * with 110,000 entries gets idle snapshot readers on real sockets: the list is copied once for all of them,
 * what the server holds unsent per connection stays under `api.streams.bufferBytes`, streams past the caps are
 * refused with 429, and /healthz keeps answering.
 */

const { entries: ENTRIES, perToken: PER_TOKEN, total: TOTAL, bufferBytes: BUFFER_BYTES } = LARGE_LIST

describe('idle snapshot readers on a 110,000-entry blocklist', () => {
  let node: ShieldwallNode
  let entryReads = 0
  const idle: Idle[] = []

  beforeAll(async () => {
    node = await startLargeListNode({
      entries: ENTRIES,
      streams: { maxPerToken: PER_TOKEN, maxTotal: TOTAL, bufferBytes: BUFFER_BYTES },
    })
    // Counts passes over the whole list: each one builds every entry afresh (~250 bytes of heap apiece).
    const list = node.blocklist
    const entries = list.entries.bind(list)
    list.entries = function* () {
      entryReads++
      yield* entries()
    }
  }, 120_000)

  afterAll(async () => {
    for (const { req } of idle) req.destroy()
    if (node !== undefined) await stopAndRemove(node)
  })

  it('shares one snapshot, bounds what each connection holds, refuses streams past the caps and stays healthy', async () => {
    expect(node.blocklist.size).toBeGreaterThan(ENTRIES * 0.99)
    const base = node.apiUrl
    const path = '/api/defense/decisions/stream?snapshot=true'

    const {
      tokens: [a],
      overToken,
    } = await fillStreamCaps(node, path, { perToken: PER_TOKEN, total: TOTAL }, idle)
    expect(overToken.error.status).toBe(429)

    // Every reader has been handed what its socket would take and is now waiting for its client.
    const gate = node.bouncers.streams
    await waitForIdleStreams(gate, TOTAL, 60_000, 'every stream to wait for its idle client')
    // One snapshot for all: the list was read once (the node starts building it at start, before the count
    // began), not once per connection.
    expect(node.bouncers.feed.snapshots.builds).toBe(1)
    expect(entryReads).toBeLessThanOrEqual(1)
    expectBoundedQueues(gate, BUFFER_BYTES)

    const health = await fetch(`${base}/healthz`)
    expect(health.status).toBe(200)
    expect(await health.json()).toEqual({ status: 'ok' })

    // The clients go away: their slots and journal listeners are freed.
    const listeners = node.bouncers.journal.listenerCount
    for (const { req } of idle.splice(0)) req.destroy()
    await waitFor(() => gate.counts.open === 0, 30_000, 'the streams to close')
    expect(node.bouncers.journal.listenerCount).toBe(listeners - TOTAL)
    const again = await openIdle(base, path, a)
    expect(again.res.statusCode).toBe(200)
    idle.push(again)
  }, 180_000)
})
