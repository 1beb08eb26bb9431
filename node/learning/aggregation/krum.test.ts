import { describe, expect, it } from 'vitest'
import { krum, krumScores, maxKrumByzantine } from './krum.ts'
import { updatesOf } from './test-helpers.ts'

const named = (name: string) => expect.objectContaining({ name })
const points = updatesOf([[0], [0.1], [0.2], [0.3], [10]])

describe('krum', () => {
  it('scores each update by its n - f - 2 nearest squared distances (Blanchard et al. 2017)', () => {
    // n = 5, f = 1: two neighbours each
    const scores = krumScores(points, 1)
    const byIndex = Object.fromEntries(scores.map((s) => [s.index, s.score]))
    expect(byIndex[0]).toBeCloseTo(0.01 + 0.04, 6)
    expect(byIndex[1]).toBeCloseTo(0.01 + 0.01, 6)
    expect(byIndex[2]).toBeCloseTo(0.01 + 0.01, 6)
    expect(byIndex[3]).toBeCloseTo(0.01 + 0.04, 6)
    expect(byIndex[4]).toBeCloseTo(9.7 ** 2 + 9.8 ** 2, 3)
    expect(scores[0].index).toBe(1) // tie with 2 goes to the earlier update
    expect(scores.at(-1)?.index).toBe(4)
  })

  it('returns the best update (a copy), or the weighted mean of the m best for multi-Krum', () => {
    const best = krum(points, 1)
    expect(Array.from(best)).toEqual([Math.fround(0.1)])
    expect(best).not.toBe(points[1].delta)
    expect(krum(points, 1, 2)[0]).toBeCloseTo(0.15, 6)
    const weighted = updatesOf([[0], [0.1], [0.2], [0.3], [10]], [1, 1, 3, 1, 1])
    expect(krum(weighted, 1, 2)[0]).toBeCloseTo((0.1 + 3 * 0.2) / 4, 6)
  })

  it('needs n > 2f + 2 and 1 <= m <= n - f', () => {
    expect(maxKrumByzantine(5)).toBe(1)
    expect(maxKrumByzantine(10)).toBe(3)
    expect(() => krum(points, 2)).toThrow(named('InsufficientUpdatesError'))
    expect(() => krum(updatesOf([[1], [2]]), 0)).toThrow(named('InsufficientUpdatesError'))
    expect(() => krum(points, -1)).toThrow(named('InvalidAggregationOptionError'))
    expect(() => krum(points, 1, 0)).toThrow(named('InvalidAggregationOptionError'))
    expect(() => krum(points, 1, 5)).toThrow(named('InvalidAggregationOptionError'))
    expect(() => krum(points, 1, 4)).not.toThrow()
    expect(() => krum([], 0)).toThrow(named('EmptyUpdatesError'))
  })
})
