import { describe, expect, it } from 'vitest'
import {
  allowanceFor,
  FLOOD_MARGIN,
  PeerBudget,
  spend,
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
    expect(budget.usage('stranger')).toEqual({ spent: 10, refused: 90, flooded: 80 })
    expect(budget.usage('nobody')).toEqual({ spent: 0, refused: 0, flooded: 0 })
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
