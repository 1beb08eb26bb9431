import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openStore, type Store } from '../store/open-store.ts'
import { DEFAULT_HALF_LIFE_MS } from './beta-reputation.ts'
import { BANNED_APP_SCORE } from './gossip-app-score.ts'
import {
  reputationBook,
  type ReputationBook,
  type ReputationBookInit,
  type TrustChange,
} from './reputation-book.ts'

const ALICE = '12D3KooWAliceAliceAliceAliceAliceAliceAliceAliceAlice'
const BOB = '12D3KooWBobBobBobBobBobBobBobBobBobBobBobBobBobBobBob'
const CAROL = '12D3KooWCarolCarolCarolCarolCarolCarolCarolCarolCarol'

describe('ReputationBook', () => {
  let dir: string
  let store: Store
  let now: number
  const clock = () => now
  const books: ReputationBook[] = []

  async function book(init: Partial<ReputationBookInit> = {}): Promise<ReputationBook> {
    const b = reputationBook({ flushDelayMs: 60_000, ...init })({ store, clock })
    await b.open()
    books.push(b)
    return b
  }

  async function reopenStore(): Promise<void> {
    await store.close()
    store = await openStore(dir)
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shieldwall-reputation-'))
    store = await openStore(dir)
    now = 1_700_000_000_000
  })

  afterEach(async () => {
    for (const b of books.splice(0)) await b.stop().catch(() => undefined)
    await store.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('gives unknown peers the prior and a neutral gossip score', async () => {
    const b = await book()
    expect(b.trust(ALICE)).toBeLessThan(0.3)
    expect(b.gossipScore(ALICE)).toBe(0)
    expect(b.get(ALICE)).toBeUndefined()
    expect(b.size).toBe(0)
  })

  it('records evidence with counts and a bounded log of why', async () => {
    const b = await book({ recentEvidence: 5 })
    const before = b.trust(ALICE)
    for (let i = 0; i < 20; i++) {
      now += 1000
      b.record(ALICE, 'corroborated-by-own-detector', { alertId: `a${i}`, indicator: '203.0.113.5' })
    }
    const after = b.record(ALICE, 'never-corroborated', { alertId: 'z' })
    expect(after).toBeGreaterThan(0.7)
    expect(after).toBeGreaterThan(before)
    const view = b.get(ALICE)!
    expect(view.counts).toEqual({ 'corroborated-by-own-detector': 20, 'never-corroborated': 1 })
    expect(view.recent).toHaveLength(5)
    expect(view.recent.at(-1)).toEqual({ kind: 'never-corroborated', at: now, alertId: 'z' })
    expect(view.recent[0]).toMatchObject({ kind: 'corroborated-by-own-detector', alertId: 'a16' })
    expect(view.firstSeen).toBe(now - 19_000)
    expect(view.lastSeen).toBe(now)
    expect(view.trust).toBe(after)
    expect(view.gossipScore).toBeGreaterThan(0)
  })

  it('forgets with time', async () => {
    const b = await book()
    for (let i = 0; i < 30; i++) b.record(ALICE, 'corroborated-by-own-detector')
    const fresh = b.trust(ALICE)
    now += DEFAULT_HALF_LIFE_MS
    expect(b.trust(ALICE)).toBeLessThan(fresh)
    now += 20 * DEFAULT_HALF_LIFE_MS
    expect(b.trust(ALICE)).toBeCloseTo(b.trust(BOB), 3)
  })

  it('keeps evidence across restarts', async () => {
    const b = await book()
    for (let i = 0; i < 10; i++) b.record(ALICE, 'corroborated-by-own-detector')
    b.record(BOB, 'reported-allowlisted-address', { indicator: '10.0.0.1' })
    const trust = [b.trust(ALICE), b.trust(BOB)]
    await b.stop()
    await reopenStore()
    const again = await book()
    expect([again.trust(ALICE), again.trust(BOB)]).toEqual(trust)
    expect(again.get(BOB)!.recent).toEqual([
      { kind: 'reported-allowlisted-address', at: now, indicator: '10.0.0.1' },
    ])
  })

  it('writes a pin at once, so a crash right after cannot lose it', async () => {
    const b = await book()
    b.record(ALICE, 'corroborated-by-own-detector')
    await b.pin(BOB, 'banned')
    await b.pin(ALICE, 'trusted')
    // no stop(): the process "dies" here
    await reopenStore()
    const again = await book()
    expect(again.get(BOB)!.pinned).toBe('banned')
    expect(again.trust(BOB)).toBe(0)
    expect(again.trust(ALICE)).toBe(1)
  })

  it('overrides evidence with pins until unpinned', async () => {
    const b = await book({ pinnedTrust: 0.9 })
    for (let i = 0; i < 30; i++) b.record(ALICE, 'corroborated-by-own-detector')
    const earned = b.trust(ALICE)
    await b.pin(ALICE, 'banned')
    expect(b.trust(ALICE)).toBe(0)
    expect(b.gossipScore(ALICE)).toBe(BANNED_APP_SCORE)
    await b.pin(ALICE, 'trusted')
    expect(b.trust(ALICE)).toBe(0.9)
    await b.pin(ALICE, null)
    expect(b.trust(ALICE)).toBe(earned)
    expect(b.get(ALICE)!.pinned).toBeUndefined()
    await b.pin(BOB, null)
    expect(b.get(BOB)).toBeUndefined()
    expect(b.list({ pinned: true })).toEqual([])
  })

  it('makes liars negative in gossipsub but not peers it merely cannot corroborate', async () => {
    const b = await book()
    for (let i = 0; i < 3; i++) b.record(ALICE, 'marked-false-by-admin')
    for (let i = 0; i < 200; i++) b.record(BOB, 'never-corroborated')
    for (let i = 0; i < 200; i++) b.record(CAROL, 'reported-allowlisted-address')
    expect(b.gossipScore(ALICE)).toBeLessThan(-8)
    expect(b.gossipScore(BOB)).toBe(0)
    expect(b.trust(BOB)).toBeLessThan(0.05)
    // a peer that keeps reporting what only we allowlist weighs little here, and still relays
    expect(b.gossipScore(CAROL)).toBe(0)
    expect(b.trust(CAROL)).toBeLessThan(0.05)
  })

  it('tells listeners when trust changes', async () => {
    const b = await book()
    const changes: TrustChange[] = []
    b.onChange(() => {
      throw new Error('a broken listener must not break recording')
    })
    const off = b.onChange((c) => changes.push(c))
    const t = b.record(ALICE, 'corroborated-by-own-detector')
    await b.pin(ALICE, 'banned')
    off()
    b.record(ALICE, 'invalid-message')
    expect(changes).toEqual([
      { peerId: ALICE, previous: b.trust(BOB), trust: t, cause: 'corroborated-by-own-detector' },
      { peerId: ALICE, previous: t, trust: 0, cause: 'pin' },
    ])
  })

  it('evicts the least recently seen unpinned peer beyond the cap, on disk too', async () => {
    const b = await book({ maxPeers: 3 })
    await b.pin('p0', 'banned')
    for (const p of ['p1', 'p2']) {
      now += 1000
      b.record(p, 'invalid-message')
    }
    now += 1000
    b.record('p1', 'invalid-message') // p1 seen again: p2 is now the least recent
    now += 1000
    b.record('p3', 'invalid-message')
    expect(b.list().map((p) => p.peerId)).toEqual(['p3', 'p1', 'p0'])
    expect(b.evicted).toBe(1)
    await b.stop()
    await reopenStore()
    const again = await book({ maxPeers: 3 })
    expect(again.list().map((p) => p.peerId)).toEqual(['p3', 'p1', 'p0'])
  })

  it('rejects bad input with named errors', async () => {
    const unopened = reputationBook()({ store })
    expect(() => unopened.record(ALICE, 'invalid-message')).toThrow(
      expect.objectContaining({ name: 'ReputationBookStateError' }),
    )
    const b = await book()
    for (const id of ['', 'x'.repeat(200), 42 as unknown as string]) {
      expect(() => b.record(id, 'invalid-message')).toThrow(
        expect.objectContaining({ name: 'InvalidPeerIdError' }),
      )
    }
    expect(() => b.record(ALICE, 'liked-by-me' as never)).toThrow(
      expect.objectContaining({ name: 'InvalidEvidenceError' }),
    )
    await expect(b.pin(ALICE, 'maybe' as never)).rejects.toMatchObject({ name: 'InvalidEvidenceError' })
    expect(() => reputationBook({ maxPeers: 0 })({ store })).toThrow(
      expect.objectContaining({ name: 'InvalidReputationBookInitError' }),
    )
    expect(b.size).toBe(0)
  })

  it('skips unreadable records at load', async () => {
    const sub = store.sublevel<string, string>('reputation', { valueEncoding: 'utf8' })
    await sub.put('garbage', '{not json')
    await sub.put('wrong', JSON.stringify({ peerId: 'other' }))
    await sub.put(ALICE, JSON.stringify({ peerId: ALICE, state: { alpha: -1 }, firstSeen: 1, lastSeen: 1 }))
    const b = await book()
    expect(b.corrupt).toBe(3)
    expect(b.size).toBe(0)
    b.record(ALICE, 'invalid-message')
    expect(b.get(ALICE)!.counts).toEqual({ 'invalid-message': 1 })
  })
})
