import { describe, expect, it } from 'vitest'
import { DISTINCT_SCAN, LeakyBuckets } from './leaky-bucket.ts'
import { mulberry32 } from '../features/prng.ts'

describe('LeakyBuckets', () => {
  it('fills, leaks continuously, and forgets a fill once empty', () => {
    const buckets = new LeakyBuckets(2)
    const row = buckets.addRow()
    expect(buckets.bucket(row, 1)).toBe(-1)
    const b = buckets.addBucket(row, 1)
    expect(buckets.bucket(row, 1)).toBe(b)
    expect(buckets.bucket(row, 0)).toBe(-1)
    buckets.pour(b, 10_000, 1)
    buckets.leak(b, 15_000, 10_000)
    buckets.pour(b, 15_000, 3)
    expect(buckets.level(b)).toBeCloseTo(3.5)
    expect([buckets.events(b), buckets.first(b), buckets.last(b)]).toEqual([4, 10_000, 15_000])
    buckets.pour(b, 12_000, 1) // a line slightly out of order keeps the true span
    expect([buckets.first(b), buckets.last(b)]).toEqual([10_000, 15_000])
    buckets.leak(b, 60_000, 10_000)
    expect([buckets.level(b), buckets.events(b)]).toEqual([0, 0])
  })

  it('counts each distinct value once per fill, as a Set capped at maxDistinct would', () => {
    for (const maxDistinct of [0, 1, 5, DISTINCT_SCAN, DISTINCT_SCAN + 1, 40, 256]) {
      const rand = mulberry32(maxDistinct + 1)
      const buckets = new LeakyBuckets(1)
      const b = buckets.addBucket(buckets.addRow(), 0)
      let reference = new Set<string>()
      const mismatches: number[] = []
      for (let i = 0; i < 50_000; i++) {
        if (rand() < 0.02) {
          buckets.reset(b)
          reference = new Set()
          continue
        }
        const vocabulary = rand() < 0.5 ? 4 : 300
        // built per call, like a slice of a log line: equal text, different string objects
        const value = ['value', Math.floor(rand() * vocabulary), 'of a user agent'].join(' ')
        const want = !reference.has(value)
        if (want && reference.size < maxDistinct) reference.add(value)
        if (buckets.firstSighting(b, value, maxDistinct) !== want) mismatches.push(i)
      }
      expect(mismatches.slice(0, 5), `maxDistinct ${maxDistinct}`).toEqual([])
    }
  })

  it('keeps the last pour times, and a freed row comes back empty', () => {
    const buckets = new LeakyBuckets(3)
    const row = buckets.addRow()
    const b = buckets.addBucket(row, 2)
    for (const t of [1, 2, 3, 4, 5]) buckets.pourTimes(b, t, 3)
    expect(buckets.pourTimes(b, 6, 3)).toEqual([4, 5, 6])
    buckets.pour(b, 7, 9)
    buckets.setQuietUntil(b, 100)
    buckets.firstSighting(b, 'a', 10)
    buckets.freeRow(row)
    const again = buckets.addRow()
    expect(buckets.bucket(again, 2)).toBe(-1)
    const fresh = buckets.addBucket(again, 0)
    expect([buckets.level(fresh), buckets.events(fresh), buckets.quietUntil(fresh)]).toEqual([0, 0, 0])
    expect(buckets.firstSighting(fresh, 'a', 10)).toBe(true)
    expect(buckets.pourTimes(fresh, 8, 3)).toEqual([8])
  })

  it('grows past its initial size', () => {
    const buckets = new LeakyBuckets(4, 2)
    const rows = Array.from({ length: 100 }, () => buckets.addRow())
    rows.forEach((row, i) => buckets.pour(buckets.addBucket(row, i % 4), i, i + 1))
    rows.forEach((row, i) => expect(buckets.events(buckets.bucket(row, i % 4))).toBe(i + 1))
  })
})
