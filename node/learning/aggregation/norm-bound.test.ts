import { describe, expect, it } from 'vitest'
import { boundNorm, normBounded } from './norm-bound.ts'
import { updatesOf } from './test-helpers.ts'
import { l2Norm } from './weighted-update.ts'

describe('boundNorm', () => {
  it('scales a long delta down to the bound and leaves a short one alone', () => {
    const delta = Float32Array.from([3, 4])
    expect(Array.from(boundNorm(delta, 1))).toEqual([Math.fround(0.6), Math.fround(0.8)])
    expect(Array.from(boundNorm(delta, 5))).toEqual([3, 4])
    expect(Array.from(boundNorm(delta, 0))).toEqual([0, 0])
    expect(Array.from(delta)).toEqual([3, 4]) // not mutated
    expect(() => boundNorm(delta, -1)).toThrow(
      expect.objectContaining({ name: 'InvalidAggregationOptionError' }),
    )
  })
})

describe('normBounded', () => {
  it('applies a fixed bound to every update and counts the clipped ones', () => {
    const { updates, maxNorm, clipped } = normBounded(
      updatesOf(
        [
          [3, 4],
          [0, 1],
        ],
        [2, 7],
      ),
      2,
    )
    expect(maxNorm).toBe(2)
    expect(clipped).toBe(1)
    expect(l2Norm(updates[0].delta)).toBeCloseTo(2, 6)
    expect(updates.map((u) => u.weight)).toEqual([2, 7])
  })

  it("'median' bounds at median norm times the factor, so a boosted update is cut to size", () => {
    const honest = [
      [1, 0],
      [0, 1],
      [0.6, 0.8],
      [-1, 0],
    ]
    const { updates, maxNorm, clipped } = normBounded(updatesOf([...honest, [300, 400]]), 'median')
    expect(maxNorm).toBeCloseTo(2, 6)
    expect(clipped).toBe(1)
    expect(l2Norm(updates[4].delta)).toBeCloseTo(2, 5)
    expect(
      normBounded(updatesOf([...honest, [300, 400]]), 'median', { medianFactor: 1 }).maxNorm,
    ).toBeCloseTo(1, 6)
  })
})
