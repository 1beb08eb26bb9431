import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { openStore, type Store } from '../store/open-store.ts'
import {
  corroborationTracker,
  type CorroborationTracker,
  type CorroborationTrackerInit,
  type PeerAlert,
} from './corroboration-tracker.ts'
import { reputationBook, type ReputationBook } from './reputation-book.ts'

const HOUR = 3600 * 1000
const T0 = 1_700_000_000_000
const ATTACKER = '203.0.113.5'
const BENIGN = '198.51.100.7'

describe('CorroborationTracker', () => {
  let dir: string
  let store: Store
  let book: ReputationBook
  let now: number
  let seq: number

  function tracker(init: Partial<CorroborationTrackerInit> = {}): CorroborationTracker {
    return corroborationTracker({ sweepIntervalMs: 0, ...init })({ book, clock: () => now })
  }

  function alert(reporter: string, indicator: string, receivedAt = now, ttl = 24 * HOUR): PeerAlert {
    return {
      alertId: `alert-${seq++}`,
      reporter,
      indicator,
      scenario: 'ssh-bf',
      receivedAt,
      expiresAt: receivedAt + ttl,
    }
  }

  const count = (peer: string, kind: string) =>
    (book.get(peer)?.counts as Record<string, number>)?.[kind] ?? 0

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shieldwall-corroboration-'))
    store = await openStore(dir)
    now = T0
    seq = 0
    book = reputationBook({ flushDelayMs: 60_000 })({ store, clock: () => now })
    await book.open()
  })

  afterEach(async () => {
    await book.stop()
    await store.close()
    await rm(dir, { recursive: true, force: true })
  })

  describe('own detector', () => {
    it('credits reporters whose alerts came before our detection, within the window', async () => {
      const t = tracker()
      const early = alert('early', ATTACKER, now - 25 * HOUR, 48 * HOUR)
      const a = alert('alice', ATTACKER, now - 2 * HOUR)
      const b = alert('bob', ATTACKER, now - 1000)
      const elsewhere = alert('carol', BENIGN, now - 1000)
      for (const x of [early, a, b, elsewhere]) expect(t.onPeerAlert(x)).toBe(true)
      const before = book.trust('alice')

      expect(t.onLocalDetection(ATTACKER, now)).toBe(2)
      expect(book.trust('alice')).toBeGreaterThan(before)
      expect(count('alice', 'corroborated-by-own-detector')).toBe(1)
      expect(count('bob', 'corroborated-by-own-detector')).toBe(1)
      expect(book.get('early')).toBeUndefined()
      expect(book.get('carol')).toBeUndefined()
      expect(book.get('alice')!.recent[0]).toMatchObject({ alertId: a.alertId, indicator: ATTACKER })

      // once per alert: detecting the same attacker again earns nothing more
      now += HOUR
      expect(t.onLocalDetection(ATTACKER, now)).toBe(0)
      expect(count('alice', 'corroborated-by-own-detector')).toBe(1)
      expect(t.stats().ownDetector).toBe(2)
    })

    it('credits a reporter once per detection however many alerts it sent', () => {
      const t = tracker()
      for (let i = 0; i < 10; i++) t.onPeerAlert(alert('spammer', ATTACKER, now - i * 1000))
      expect(t.onLocalDetection(ATTACKER, now)).toBe(1)
      expect(count('spammer', 'corroborated-by-own-detector')).toBe(1)
    })

    it('gives nothing to peers echoing our own alert back, unless configured to', () => {
      const t = tracker()
      t.onLocalDetection(ATTACKER, now)
      now += 500
      t.onPeerAlert(alert('echo', ATTACKER))
      expect(count('echo', 'corroborated-by-own-detector')).toBe(0)

      const lenient = tracker({ echoGraceMs: HOUR })
      lenient.onLocalDetection(BENIGN, now)
      now += 30 * 60_000
      lenient.onPeerAlert(alert('late', BENIGN))
      expect(count('late', 'corroborated-by-own-detector')).toBe(1)
      now += 2 * HOUR
      lenient.onPeerAlert(alert('too-late', BENIGN))
      expect(count('too-late', 'corroborated-by-own-detector')).toBe(0)
    })
  })

  describe('trusted peers', () => {
    it('corroborate earlier alerts of others on the same indicator, once per alert', async () => {
      const t = tracker({ trustedThreshold: 0.7 })
      await book.pin('trusted', 'trusted')
      t.onPeerAlert(alert('alice', ATTACKER, now - HOUR))
      t.onPeerAlert(alert('stale', ATTACKER, now - 30 * HOUR, 48 * HOUR))
      t.onPeerAlert(alert('bob', BENIGN, now - HOUR))
      t.onPeerAlert(alert('trusted', ATTACKER))
      expect(count('alice', 'corroborated-by-trusted-peer')).toBe(1)
      expect(book.get('alice')!.recent[0].note).toBe('by trusted')
      expect(book.get('stale')).toBeUndefined()
      expect(book.get('bob')).toBeUndefined()
      expect(count('trusted', 'corroborated-by-trusted-peer')).toBe(0)

      // later alerts are not corroborated by earlier trusted ones (they could be copies), nor twice
      now += 1000
      t.onPeerAlert(alert('copycat', ATTACKER))
      t.onPeerAlert(alert('trusted', ATTACKER))
      expect(count('copycat', 'corroborated-by-trusted-peer')).toBe(1)
      expect(count('alice', 'corroborated-by-trusted-peer')).toBe(1)
    })

    it('needs earned trust above the threshold; a fresh peer corroborates nothing', () => {
      const t = tracker({ trustedThreshold: 0.7 })
      t.onPeerAlert(alert('alice', ATTACKER, now - HOUR))
      t.onPeerAlert(alert('newcomer', ATTACKER))
      expect(book.get('alice')).toBeUndefined()

      for (let i = 0; i < 20; i++) book.record('veteran', 'corroborated-by-own-detector')
      expect(book.trust('veteran')).toBeGreaterThan(0.7)
      t.onPeerAlert(alert('veteran', ATTACKER))
      expect(count('alice', 'corroborated-by-trusted-peer')).toBe(1)
      expect(count('newcomer', 'corroborated-by-trusted-peer')).toBe(1)
    })
  })

  describe('allowlist and admin verdicts', () => {
    it('charges an allowlisted report once per alert and not again as never corroborated', () => {
      const t = tracker()
      for (let i = 0; i < 20; i++) book.record('good', 'corroborated-by-own-detector')
      const before = book.trust('good')
      const a = alert('good', BENIGN)
      t.onPeerAlert(a)
      expect(t.onAllowlistedReport('good', { alertId: a.alertId })).toBe(true)
      expect(t.onAllowlistedReport('good', { alertId: a.alertId })).toBe(false)
      // light: the reporter cannot see our allowlist (node/reputation/evidence.ts)
      expect(before - book.trust('good')).toBeGreaterThan(0)
      expect(book.get('good')!.recent.at(-1)).toMatchObject({ alertId: a.alertId, indicator: BENIGN })
      now = a.expiresAt
      expect(t.sweep()).toBe(0)
      expect(count('good', 'reported-allowlisted-address')).toBe(1)
      expect(count('good', 'never-corroborated')).toBe(0)
      // without an alert id every report counts
      expect(t.onAllowlistedReport('good', { indicator: BENIGN })).toBe(true)
      expect(count('good', 'reported-allowlisted-address')).toBe(2)
    })

    it('applies an admin verdict once, for pending and already forgotten alerts', () => {
      const t = tracker()
      const wrong = alert('liar', BENIGN)
      const right = alert('honest', ATTACKER)
      t.onPeerAlert(wrong)
      t.onPeerAlert(right)
      expect(t.markFalse(wrong.alertId)).toBe(true)
      expect(t.markFalse(wrong.alertId)).toBe(false)
      expect(t.confirm(wrong.alertId)).toBe(false)
      expect(t.confirm(right.alertId)).toBe(true)
      expect(count('liar', 'marked-false-by-admin')).toBe(1)
      expect(count('honest', 'confirmed-by-admin')).toBe(1)
      // a false alert is not credited by a later detection either
      t.onLocalDetection(BENIGN, now)
      expect(count('liar', 'corroborated-by-own-detector')).toBe(0)

      now += 48 * HOUR
      expect(t.sweep()).toBe(0)
      expect(() => t.markFalse('alert-gone')).toThrow(expect.objectContaining({ name: 'UnknownAlertError' }))
      expect(t.markFalse('alert-gone', { reporter: 'liar', indicator: BENIGN })).toBe(true)
      expect(count('liar', 'marked-false-by-admin')).toBe(2)
      expect(t.markFalse(wrong.alertId, { reporter: 'liar' })).toBe(false)
    })
  })

  describe('sweep', () => {
    it('charges never-corroborated only to alerts that expired with no backing', () => {
      const t = tracker()
      const lonely = alert('lonely', BENIGN, now, HOUR)
      const backed = alert('backed', ATTACKER, now, HOUR)
      const fresh = alert('fresh', BENIGN, now, 10 * HOUR)
      for (const x of [lonely, backed, fresh]) t.onPeerAlert(x)
      t.onLocalDetection(ATTACKER, now + 1)
      expect(t.sweep(now + HOUR - 1)).toBe(0)
      expect(t.sweep(now + HOUR)).toBe(1)
      expect(count('lonely', 'never-corroborated')).toBe(1)
      expect(count('backed', 'never-corroborated')).toBe(0)
      expect(t.stats().pending).toBe(1)
      // forgotten: a detection after expiry credits nothing
      t.onLocalDetection(BENIGN, now + 2 * HOUR)
      expect(count('lonely', 'corroborated-by-own-detector')).toBe(0)
      expect(count('fresh', 'corroborated-by-own-detector')).toBe(1)
    })

    it('runs on a timer after start()', async () => {
      const t = tracker({ sweepIntervalMs: 10 })
      t.onPeerAlert(alert('lonely', BENIGN, now, HOUR))
      now += 2 * HOUR
      t.start()
      // the timer is real and late on a busy machine: wait for its sweep, not for a fixed time
      await vi.waitFor(() => expect(count('lonely', 'never-corroborated')).toBe(1), {
        timeout: 30_000,
        interval: 5,
      })
      t.stop()
    })
  })

  it('leaves a crowd of Sybils reporting a benign address worse off than it found them', () => {
    const t = tracker()
    const sybils = Array.from({ length: 50 }, (_, i) => `sybil-${i}`)
    for (const s of sybils) t.onPeerAlert(alert(s, BENIGN, now, HOUR))
    // they vouch for each other, but none is trusted, so nobody gains
    expect(sybils.every((s) => book.get(s) === undefined)).toBe(true)
    const prior = book.trust('nobody')
    now += HOUR
    expect(t.sweep()).toBe(50)
    for (const s of sybils) expect(book.trust(s)).toBeLessThan(prior)
    // and they cannot farm trust by echoing our own detections
    t.onLocalDetection(ATTACKER, now)
    now += 100
    for (const s of sybils) t.onPeerAlert(alert(s, ATTACKER))
    for (const s of sybils) expect(count(s, 'corroborated-by-own-detector')).toBe(0)
  })

  it('stays within its bounds and skips bad input', () => {
    const t = tracker({ maxPending: 5, maxPerIndicator: 2 })
    t.onPeerAlert(alert('a', ATTACKER, now - 3000))
    t.onPeerAlert(alert('b', ATTACKER, now - 2000))
    t.onPeerAlert(alert('c', ATTACKER, now - 1000))
    expect(t.onLocalDetection(ATTACKER, now)).toBe(2)
    expect(book.get('a')).toBeUndefined()
    for (let i = 0; i < 10; i++) t.onPeerAlert(alert('x', `10.0.0.${i}`))
    expect(t.stats().pending).toBe(5)
    expect(t.stats().dropped).toBe(1 + 7)

    const dup = alert('d', BENIGN)
    expect(t.onPeerAlert(dup)).toBe(true)
    expect(t.onPeerAlert(dup)).toBe(false)
    expect(t.onPeerAlert({ ...alert('d', BENIGN), receivedAt: Number.NaN })).toBe(false)
    expect(t.onPeerAlert({ ...alert('', BENIGN) })).toBe(false)
    expect(t.onPeerAlert(alert('d', BENIGN, now, 0))).toBe(false)
    expect(t.onPeerAlert(null as never)).toBe(false)
    expect(t.onPeerAlert(alert('y'.repeat(200), ATTACKER))).toBe(false)
    expect(t.onLocalDetection(ATTACKER, now + 1)).toBe(0)
    expect(t.stats().skipped).toBe(6)
    expect(() => corroborationTracker({ trustedThreshold: 0 })({ book })).toThrow(
      expect.objectContaining({ name: 'InvalidCorroborationTrackerInitError' }),
    )
  })
})
