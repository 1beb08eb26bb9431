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
})
