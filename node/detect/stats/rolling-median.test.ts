import { describe, expect, it } from 'vitest'
import { mulberry32 } from '../features/prng.ts'
import { RollingMedian, select } from './rolling-median.ts'

describe('RollingMedian', () => {
  it('selects the k-th smallest like a sort does', () => {
    const rand = mulberry32(3)
    for (let n = 1; n < 60; n++) {
      const xs = Float64Array.from({ length: n }, () => Math.floor(rand() * 10)) // many ties
      const sorted = Array.from(xs).sort((a, b) => a - b)
      for (let k = 0; k < n; k++) expect(select(Float64Array.from(xs), n, k)).toBe(sorted[k])
    }
  })

  it('tracks median and MAD of the recent values and ignores a few huge ones', () => {
    const m = new RollingMedian(1000, 100)
    for (let i = 0; i < 5000; i++) m.push(i % 2 === 0 ? 10 : 12)
    m.refresh()
    // 500 tens and 500 twelves: the upper median is 12, deviations from it are 2 and 0, their upper median 2
    expect(m.median).toBe(12)
    expect(m.mad).toBe(2)
    for (let i = 0; i < 50; i++) m.push(1e9)
    m.refresh()
    expect(m.median).toBeLessThanOrEqual(12)
    expect(m.size).toBe(1000)
  })

  it('forgets values older than its capacity', () => {
    const m = new RollingMedian(100, 10)
    for (let i = 0; i < 100; i++) m.push(1)
    for (let i = 0; i < 100; i++) m.push(5)
    m.refresh()
    expect(m.median).toBe(5)
  })
})
