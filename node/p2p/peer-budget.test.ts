import { describe, expect, it } from 'vitest'
import {
  allowanceFor,
  draw,
  FLOOD_MARGIN,
  JUDGE_ALLOWANCE_TRUSTED,
  JUDGE_ALLOWANCE_UNKNOWN,
  PeerBudget,
  POOL_TRUSTED_THRESHOLD,
  poolAllowance,
  spend,
  STRANGER_POOL_MULTIPLE,
  strangerPool,
  VERIFY_ALLOWANCE_TRUSTED,
  VERIFY_ALLOWANCE_UNKNOWN,
  type Allowance,
} from './peer-budget.ts'

const SMALL: Allowance = { perSecond: 2, burst: 10 }

describe('allowanceFor', () => {
  it('gives a stranger the floor, a trusted peer the ceiling and interpolates between', () => {
    expect(allowanceFor(0, VERIFY_ALLOWANCE_UNKNOWN, VERIFY_ALLOWANCE_TRUSTED)).toEqual(
      VERIFY_ALLOWANCE_UNKNOWN,
    )
    expect(allowanceFor(1, VERIFY_ALLOWANCE_UNKNOWN, VERIFY_ALLOWANCE_TRUSTED)).toEqual(
      VERIFY_ALLOWANCE_TRUSTED,
    )
    const half = allowanceFor(0.5, { perSecond: 0, burst: 10 }, { perSecond: 100, burst: 1010 })
    expect(half).toEqual({ perSecond: 50, burst: 510 })
  })

  it('treats trust outside [0, 1] or not a number as the nearest bound, NaN as a stranger', () => {
    expect(allowanceFor(-3, SMALL, { perSecond: 20, burst: 100 })).toEqual(SMALL)
    expect(allowanceFor(7, SMALL, { perSecond: 20, burst: 100 })).toEqual({ perSecond: 20, burst: 100 })
    expect(allowanceFor(Number.NaN, SMALL, { perSecond: 20, burst: 100 })).toEqual(SMALL)
  })

  it('makes a newcomer (trust about 0.04) cost at most a few percent of a trusted peer', () => {
    const newcomer = allowanceFor(0.04, VERIFY_ALLOWANCE_UNKNOWN, VERIFY_ALLOWANCE_TRUSTED)
    expect(newcomer.burst).toBeLessThan(VERIFY_ALLOWANCE_TRUSTED.burst / 10)
    expect(newcomer.perSecond).toBeLessThan(VERIFY_ALLOWANCE_TRUSTED.perSecond / 10)
  })
})

describe('spend', () => {
  it('grants while tokens last, then is over, then floods past the margin', () => {
    let tokens = SMALL.burst
    const verdicts: string[] = []
    for (let i = 0; i < 25; i++) {
      const step = spend(tokens, 0, SMALL)
      tokens = step.tokens
      verdicts.push(step.verdict)
    }
    expect(verdicts.filter((v) => v === 'ok')).toHaveLength(SMALL.burst)
    expect(verdicts.filter((v) => v === 'over')).toHaveLength(FLOOD_MARGIN * SMALL.burst)
    expect(verdicts.slice(SMALL.burst * (1 + FLOOD_MARGIN))).toEqual(Array(5).fill('flood'))
    // the debt stops at the floor, so a flooder that stops recovers in bounded time
    expect(tokens).toBe(-FLOOD_MARGIN * SMALL.burst)
  })

  it('refills at the rate, never above the burst, and ignores time running backwards', () => {
    expect(spend(0, 1000, SMALL)).toEqual({ tokens: 1, verdict: 'ok' })
    expect(spend(SMALL.burst, 3_600_000, SMALL).tokens).toBe(SMALL.burst - 1)
    expect(spend(0, -60_000, SMALL).verdict).toBe('over')
  })
})

describe('PeerBudget', () => {
  it('keeps one bucket per peer, sized by that peer’s trust', () => {
    const trust: Record<string, number> = { stranger: 0, friend: 1 }
    const budget = new PeerBudget((p) => allowanceFor(trust[p] ?? 0, SMALL, { perSecond: 100, burst: 100 }))
    let strangerOk = 0
    let friendOk = 0
    for (let i = 0; i < 100; i++) {
      if (budget.take('stranger', 0) === 'ok') strangerOk++
      if (budget.take('friend', 0) === 'ok') friendOk++
    }
    expect(strangerOk).toBe(SMALL.burst)
    expect(friendOk).toBe(100)
    expect(budget.usage('stranger')).toEqual({ spent: 10, refused: 90, flooded: 80, pooled: 0 })
    expect(budget.usage('nobody')).toEqual({ spent: 0, refused: 0, flooded: 0, pooled: 0 })
  })

  it('peek answers like take without charging', () => {
    const budget = new PeerBudget(() => ({ perSecond: 0, burst: 1 }))
    expect(budget.peek('a', 0)).toBe('ok')
    expect(budget.peek('a', 0)).toBe('ok')
    expect(budget.take('a', 0)).toBe('ok')
    expect(budget.peek('a', 0)).toBe('over')
    expect(budget.usage('a').spent).toBe(1)
  })

  it('a clock stepped back does not refill the bucket twice', () => {
    const budget = new PeerBudget(() => ({ perSecond: 1, burst: 1 }))
    expect(budget.take('a', 10_000)).toBe('ok')
    expect(budget.take('a', 0)).toBe('over')
    // only the time since the latest instant seen counts: 1 s after it, one token (minus the debt of 1)
    expect(budget.take('a', 11_000)).toBe('over')
    expect(budget.take('a', 13_000)).toBe('ok')
  })

  it('remembers a bounded number of peers, forgetting the least recently active', () => {
    const budget = new PeerBudget(() => ({ perSecond: 0, burst: 1 }), 3)
    for (const p of ['a', 'b', 'c']) budget.take(p, 0)
    budget.take('a', 0) // a is now the most recent
    budget.take('d', 0) // b goes
    expect(budget.peers).toBe(3)
    expect(budget.usage('b').spent).toBe(0)
    expect(budget.usage('a').refused).toBe(1)
  })
})

describe('draw (the shared pool)', () => {
  it('grants while tokens last and never goes into debt', () => {
    let tokens = SMALL.burst
    let granted = 0
    for (let i = 0; i < 50; i++) {
      const step = draw(tokens, 0, SMALL)
      tokens = step.tokens
      if (step.granted) granted++
      expect(tokens).toBeGreaterThanOrEqual(0)
    }
    expect(granted).toBe(SMALL.burst)
    // a refused crowd does not push the pool's recovery back: one second later, its rate is there
    expect(draw(tokens, 1000, SMALL)).toEqual({ tokens: SMALL.perSecond - 1, granted: true })
  })
})

/** A budget where the peers named in `trust` have that trust and every other peer is a stranger (trust 0). */
function pooledBudget(trust: Record<string, number> = {}, own = JUDGE_ALLOWANCE_UNKNOWN) {
  const trustOf = (p: string) => trust[p] ?? 0
  return new PeerBudget(
    (p) => allowanceFor(trustOf(p), own, JUDGE_ALLOWANCE_TRUSTED),
    undefined,
    strangerPool(own, trustOf),
  )
}

describe('the shared pool of untrusted peers', () => {
  const pool = poolAllowance(JUDGE_ALLOWANCE_UNKNOWN)

  it('is a small multiple of one stranger’s allowance', () => {
    expect(pool).toEqual({
      perSecond: JUDGE_ALLOWANCE_UNKNOWN.perSecond * STRANGER_POOL_MULTIPLE,
      burst: JUDGE_ALLOWANCE_UNKNOWN.burst * STRANGER_POOL_MULTIPLE,
    })
  })

  it('holds N fresh identities together to the pool, however many they are', () => {
    for (const n of [1, 10, 50, 200]) {
      const budget = pooledBudget()
      const spanMs = 10_000
      let granted = 0
      let overOwn = 0
      // each identity keeps to its own rate (a message every 1/perSecond s, after spending its burst)
      const step = 1000 / JUDGE_ALLOWANCE_UNKNOWN.perSecond
      for (let t = 0; t <= spanMs; t += step) {
        for (let i = 0; i < n; i++) {
          const count = t === 0 ? JUDGE_ALLOWANCE_UNKNOWN.burst : 1
          for (let k = 0; k < count; k++) {
            const verdict = budget.take(`sybil-${i}`, t)
            if (verdict === 'ok') granted++
            else if (verdict !== 'pool') overOwn++
          }
        }
      }
      // within its own allowance, an identity is never taken for a flooder because of the crowd
      expect(overOwn).toBe(0)
      const allowed = pool.burst + (pool.perSecond * spanMs) / 1000
      expect(granted).toBeLessThanOrEqual(allowed)
      // ...and what they were refused is counted as the pool's
      expect(budget.pool.granted).toBe(granted)
      if (n > STRANGER_POOL_MULTIPLE) expect(budget.pool.refused).toBeGreaterThan(0)
      else expect(budget.pool.refused).toBe(0)
    }
  })

  it('holds any pattern of untrusted spending to burst + rate x time (random schedule)', () => {
    let seed = 42
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31
    const budget = pooledBudget()
    let t = 0
    let granted = 0
    for (let i = 0; i < 20_000; i++) {
      t += Math.floor(random() * 20)
      const cost = 1 + Math.floor(random() * 3)
      if (budget.take(`sybil-${Math.floor(random() * 300)}`, t, cost) === 'ok') granted += cost
    }
    expect(granted).toBeLessThanOrEqual(pool.burst + (pool.perSecond * t) / 1000)
    expect(budget.pool.granted).toBe(granted)
  })

  it('never refuses a trusted peer, however spent the pool is', () => {
    const budget = pooledBudget({ friend: POOL_TRUSTED_THRESHOLD, pinned: 1 })
    for (let i = 0; i < 300; i++) for (let k = 0; k < 20; k++) budget.take(`sybil-${i}`, 0)
    expect(budget.peek('sybil-new', 0)).toBe('pool')
    for (let k = 0; k < 500; k++) {
      expect(budget.take('friend', 0)).toBe('ok')
      expect(budget.take('pinned', 0)).toBe('ok')
    }
    expect(budget.usage('friend').pooled).toBe(0)
  })

  it('answers pool while a peer is within its own allowance, and over / flood past it', () => {
    const own: Allowance = { perSecond: 0, burst: 2 }
    const trustOf = (p: string) => (p === 'trusted' ? 1 : 0)
    const budget = new PeerBudget(() => own, undefined, {
      allowance: { perSecond: 0, burst: 1 },
      member: (p) => trustOf(p) < POOL_TRUSTED_THRESHOLD,
    })
    expect(budget.take('a', 0)).toBe('ok') // the pool's only token
    expect(budget.take('b', 0)).toBe('pool')
    expect(budget.take('b', 0)).toBe('pool')
    // b has now sent its own burst: past it the flood rule applies as without a pool
    expect(budget.take('b', 0)).toBe('over')
    expect(budget.take('b', 0)).toBe('over')
    expect(budget.take('b', 0)).toBe('flood')
    expect(budget.usage('b')).toEqual({ spent: 0, refused: 5, flooded: 1, pooled: 2 })
    expect(budget.pool).toEqual({ granted: 1, refused: 2 })
    expect(budget.take('trusted', 0)).toBe('ok')
  })

  it('counts a peer with garbage trust as a stranger, and one at the threshold as trusted', () => {
    const trust: Record<string, number> = { nan: Number.NaN, below: POOL_TRUSTED_THRESHOLD - 0.01 }
    const p = strangerPool(SMALL, (peer) => trust[peer] ?? POOL_TRUSTED_THRESHOLD)
    expect(p.member('nan')).toBe(true)
    expect(p.member('below')).toBe(true)
    expect(p.member('at')).toBe(false)
  })

  it('is not refilled twice by a clock stepped back', () => {
    const budget = new PeerBudget(() => ({ perSecond: 100, burst: 100 }), undefined, {
      allowance: { perSecond: 1, burst: 1 },
      member: () => true,
    })
    expect(budget.take('a', 10_000)).toBe('ok')
    expect(budget.take('b', 0)).toBe('pool')
    expect(budget.take('c', 10_500)).toBe('pool')
    expect(budget.take('d', 11_000)).toBe('ok')
  })
})
