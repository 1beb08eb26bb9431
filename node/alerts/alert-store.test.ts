import { rm } from 'node:fs/promises'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { sealedAlert, signer, type Signer } from '../../test/helpers/hostile-peer.ts'
import { tempDir } from '../../test/helpers/test-node.ts'
import { encodeEnvelope } from '../../protocol/envelope/envelope.ts'
import { openStore, sortableNumber, type Store } from '../store/open-store.ts'
import { AlertStore, type AlertOrigin, type AlertStoreInit } from './alert-store.ts'

const NOW = 1_780_000_000_000
const HOUR = 3_600_000
const hex = (s: Signer) => Buffer.from(s.publicKey).toString('hex')

describe('AlertStore bounds (issue 15, finding 6)', () => {
  let dir: string
  let db: Store
  const trust = new Map<string, number>()

  beforeEach(async () => {
    dir = await tempDir()
    db = await openStore(dir)
    trust.clear()
  })
  afterEach(async () => {
    await db.close()
    await rm(dir, { recursive: true, force: true })
  })

  async function open(init: Partial<AlertStoreInit> = {}): Promise<AlertStore> {
    // a newcomer's trust unless the test says otherwise
    const store = new AlertStore(db, init, { trustOf: (s) => trust.get(s) ?? 0.04 })
    await store.open()
    return store
  }

  async function put(
    store: AlertStore,
    by: Signer,
    seq: number,
    opts: { origin?: AlertOrigin; at?: number; ttl?: number } = {},
  ) {
    const at = opts.at ?? NOW + seq
    const envelope = sealedAlert(
      by,
      { seq, createdAt: at, expiresAt: at + (opts.ttl ?? HOUR), body: { indicator: '198.18.0.1' } },
      at,
    )
    return store.put(envelope, encodeEnvelope(envelope), opts.origin ?? 'gossip', at)
  }

  it('holds the overall cap with many keys, keeping local and trusted alerts', async () => {
    const store = await open({ maxStored: 300, minPerSender: 20 })
    const me = signer()
    const friend = signer()
    trust.set(hex(friend), 0.9)
    for (let i = 1; i <= 20; i++) await put(store, me, i, { origin: 'local' })
    for (let i = 1; i <= 25; i++) await put(store, friend, i)
    // 100 fresh keys, 10 alerts each: more than three times the cap
    const fresh = Array.from({ length: 100 }, () => signer())
    for (let i = 1; i <= 10; i++) for (const s of fresh) await put(store, s, i, { at: NOW + 1000 + i })
    expect(store.count).toBe(300)
    for (let i = 1; i <= 20; i++) expect(await store.has(hex(me), i)).toBe(true)
    for (let i = 1; i <= 25; i++) expect(await store.has(hex(friend), i)).toBe(true)
    expect(store.stats().evicted).toBe(45 + 1000 - 300)
    // the fresh keys' newest are the ones kept: the oldest went first
    for (const s of fresh) expect(await store.has(hex(s), 10)).toBe(true)
    expect((await open({ maxStored: 300, minPerSender: 20 })).count).toBe(300)
  })

  it('a full store of trusted alerts refuses a newcomer, still takes local ones, and remembers what it refused', async () => {
    const store = await open({ maxStored: 30, minPerSender: 30 })
    const me = signer()
    const friend = signer()
    const stranger = signer()
    trust.set(hex(friend), 0.9)
    for (let i = 1; i <= 30; i++) await put(store, friend, i)
    await put(store, stranger, 1)
    expect(await store.has(hex(stranger), 1)).toBe(true) // a replay of it is recognised ...
    expect((await store.list({ limit: 100 })).items.map((a) => a.sender)).not.toContain(hex(stranger))
    expect(store.stats()).toMatchObject({ count: 30, dropped: 1, evicted: 0 })
    // ... and our own alert makes room at the bottom of the order (the friend's oldest)
    await put(store, me, 1, { origin: 'local' })
    expect(store.count).toBe(30)
    expect(await store.has(hex(me), 1)).toBe(true)
    expect(await store.has(hex(friend), 1)).toBe(false)
  })

  it("bounds one sender's alerts by its trust, its newest kept", async () => {
    const store = await open({ maxStored: 10_000, minPerSender: 20 })
    const stranger = signer()
    const friend = signer()
    trust.set(hex(friend), 0.5)
    expect(store.allowance(0.04)).toBe(40)
    expect(store.allowance(0.5)).toBe(500)
    expect(store.allowance(0)).toBe(20)
    for (let i = 1; i <= 100; i++) await put(store, stranger, i)
    for (let i = 1; i <= 100; i++) await put(store, friend, i)
    expect(store.count).toBe(140)
    expect(store.stats().evictedOverAllowance).toBe(60)
    expect(await store.has(hex(stranger), 60)).toBe(false)
    expect(await store.has(hex(stranger), 61)).toBe(true)
    // an older alert than all it holds is not kept in place of a newer one
    await put(store, stranger, 3)
    expect(store.stats()).toMatchObject({ count: 140, dropped: 1 })
    // the allowance holds across a restart (the count per sender is read back from the keys)
    const reopened = await open({ maxStored: 10_000, minPerSender: 20 })
    await put(reopened, stranger, 101)
    expect(reopened.count).toBe(140)
    expect(await reopened.has(hex(stranger), 61)).toBe(false)
  })

  it('prunes every expired alert in one pass from the expiry index, without reading a record', async () => {
    const store = await open({ maxStored: 100_000, minPerSender: 100_000 })
    const old = signer()
    for (let i = 1; i <= 2500; i++) await put(store, old, i, { ttl: 1000 })
    const live = signer()
    for (let i = 1; i <= 10; i++) await put(store, live, i, { ttl: 48 * HOUR })
    // records are not read: one that no longer parses is pruned like the others
    await db
      .sublevel<string, string>('alerts', { valueEncoding: 'utf8' })
      .put(`${hex(old)}!${sortableNumber(7)}`, 'not json')
    expect(await store.prune(NOW + 2 * HOUR, HOUR)).toBe(2500)
    expect(store.count).toBe(10)
    expect((await store.list({ limit: 100 })).items).toHaveLength(10)
    expect(await store.has(hex(old), 7)).toBe(false)
    expect(await store.prune(NOW + 2 * HOUR, HOUR)).toBe(0)
  })

  it('opens without reading every key: the count is persisted with each write', async () => {
    const store = await open()
    const s = signer()
    for (let i = 1; i <= 50; i++) await put(store, s, i)
    await store.prune(NOW + 10 * HOUR, 0)
    for (let i = 51; i <= 60; i++) await put(store, s, i, { at: NOW + 20 * HOUR })
    // a key the store did not write is not counted: open does not walk the alerts
    await db.sublevel<string, string>('alerts', { valueEncoding: 'utf8' }).put('stray!0', '{}')
    const reopened = await open()
    expect(reopened.count).toBe(10)
  })

  it('indexes a store written before the expiry index once, at open', async () => {
    // the layout older versions wrote: record, time index and id index only, no count
    const s = signer()
    const alerts = db.sublevel<string, string>('alerts', { valueEncoding: 'utf8' })
    const byTime = db.sublevel<string, string>('alerts-by-time', { valueEncoding: 'utf8' })
    const byId = db.sublevel<string, string>('alerts-by-id', { valueEncoding: 'utf8' })
    for (let i = 1; i <= 5; i++) {
      const key = `${hex(s)}!${sortableNumber(i)}`
      const timeKey = `${sortableNumber(NOW + i)}!${key}`
      const record = { id: `id${i}`, sender: hex(s), seq: i, expiresAt: NOW + i, origin: 'gossip', timeKey }
      await alerts.put(key, JSON.stringify(record))
      await byTime.put(timeKey, key)
      await byId.put(`id${i}`, key)
    }
    const store = await open()
    expect(store.count).toBe(5)
    expect(await store.prune(NOW + 3, 0)).toBe(3)
    expect(store.count).toBe(2)
    expect((await open()).count).toBe(2)
  })

  it("evicts a sender's oldest after an alert lands below where its last eviction stopped", async () => {
    // eviction searches resume after the last key evicted (LevelDB tombstones); a key put below must reset that
    const store = await open({ maxStored: 1000, minPerSender: 5 })
    const s = signer()
    for (let seq = 10; seq <= 19; seq++)
      await put(store, s, seq, { ttl: seq === 15 || seq === 16 ? 10 : HOUR })
    expect(await store.has(hex(s), 14)).toBe(false)
    expect(await store.prune(NOW + 1000, 0)).toBe(2)
    await put(store, s, 12)
    await put(store, s, 11)
    await put(store, s, 20)
    // the sender's oldest is 11, not the 17 that followed the last eviction
    expect(await store.has(hex(s), 11)).toBe(false)
    expect(await store.has(hex(s), 12)).toBe(true)
    expect(await store.has(hex(s), 17)).toBe(true)
  })

  it('evicts the oldest of a band after an alert lands below where the last eviction stopped', async () => {
    const store = await open({ maxStored: 5, minPerSender: 100 })
    const strangers = Array.from({ length: 8 }, () => signer())
    for (let i = 0; i < 7; i++)
      await put(store, strangers[i], 1, { at: NOW + 100 + i, ttl: i >= 5 ? 10 : HOUR })
    expect(store.stats().evicted).toBe(2)
    expect(await store.prune(NOW + 1000, 0)).toBe(2)
    // a clock that went back: the late alert is the oldest of its band and goes next
    await put(store, strangers[7], 1, { at: NOW + 50 })
    await put(store, strangers[7], 2, { at: NOW + 200 })
    await put(store, strangers[7], 3, { at: NOW + 201 })
    expect(store.stats().evicted).toBe(3)
    expect(await store.has(hex(strangers[7]), 1)).toBe(false)
    expect(await store.has(hex(strangers[2]), 1)).toBe(true)
  })
})
