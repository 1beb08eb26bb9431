import { describe, expect, it } from 'vitest'
import { SenderRateLimiter } from './sender-rate-limiter.ts'

describe('SenderRateLimiter', () => {
  it('counts a sender within the sliding window only', () => {
    const limiter = new SenderRateLimiter(5, 60_000)
    for (let t = 0; t < 3; t++) limiter.record('a', t * 10_000)
    expect(limiter.recent('a', 20_000)).toBe(3)
    expect(limiter.recent('b', 20_000)).toBe(0)
    // the first record (t=0) leaves the window at t=60000
    expect(limiter.recent('a', 60_000)).toBe(2)
    expect(limiter.recent('a', 80_001)).toBe(0)
  })

  it('admits a sender up to the limit, recording only what it admits', () => {
    const limiter = new SenderRateLimiter(2, 60_000)
    expect([0, 1, 2].map((t) => limiter.admit('a', t))).toEqual([true, true, false])
    expect(limiter.recent('a', 2)).toBe(2)
    expect(limiter.admit('a', 60_001)).toBe(true)
  })

  it('keeps at most `limit` timestamps per sender', () => {
    const limiter = new SenderRateLimiter(3, 60_000)
    for (let t = 0; t < 10; t++) limiter.record('a', t)
    expect(limiter.recent('a', 10)).toBe(3)
  })

  it('forgets senders that went quiet without being asked about again', () => {
    const limiter = new SenderRateLimiter(10, 60_000)
    // a flood of one-off peer ids, then none of them is ever heard from again
    for (let i = 0; i < 1000; i++) limiter.record(`sybil-${i}`, i)
    expect(limiter.senders).toBe(1000)
    limiter.record('honest', 61_000)
    expect(limiter.senders).toBe(1)
    limiter.record('honest', 100_000)
    expect(limiter.recent('honest', 100_000)).toBe(2)
  })

  it('keeps sweeping after the clock steps back', () => {
    const limiter = new SenderRateLimiter(10, 60_000)
    limiter.record('a', 1_000_000)
    // NTP steps the clock back an hour; senders idle for a window are still forgotten on time
    for (let i = 0; i < 100; i++) limiter.record(`sybil-${i}`, 1_000 + i)
    limiter.record('honest', 62_000)
    // the sybils are gone; 'a', stamped ahead of the stepped-back clock, stays until the clock passes it
    expect(limiter.senders).toBe(2)
    expect(limiter.recent('sybil-0', 62_000)).toBe(0)
  })
})
