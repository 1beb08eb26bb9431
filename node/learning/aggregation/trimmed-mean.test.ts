import { describe, expect, it } from 'vitest'
import { updatesOf } from './test-helpers.ts'
import { trimmedMean } from './trimmed-mean.ts'

const named = (name: string) => expect.objectContaining({ name })

describe('trimmedMean', () => {
  it('drops floor(beta * n) from each end of each coordinate', () => {
    const updates = updatesOf([
      [1, 50],
      [2, -40],
      [3, 0],
      [4, 1],
      [100, 2],
    ])
    // beta 0.2 of 5 cuts one from each end: mean(2, 3, 4) and mean(0, 1, 2)
    expect(Array.from(trimmedMean(updates, 0.2))).toEqual([3, 1])
    // beta 0.1 of 5 cuts nothing: the plain mean
    expect(Array.from(trimmedMean(updates, 0.1))).toEqual([22, Math.fround(2.6)])
  })

  it('with trim fraction 0 is the unweighted mean', () => {
    expect(Array.from(trimmedMean(updatesOf([[1], [2], [6]], [1, 1, 100]), 0))).toEqual([3])
  })

  it('refuses fractions outside [0, 0.5) and rounds that would trim everything', () => {
    const updates = updatesOf([[1], [2], [3]])
    expect(() => trimmedMean(updates, 0.5)).toThrow(named('InvalidAggregationOptionError'))
    expect(() => trimmedMean(updates, -0.1)).toThrow(named('InvalidAggregationOptionError'))
    expect(() => trimmedMean(updatesOf([[1], [2]]), 0.49)).not.toThrow()
    expect(() => trimmedMean([], 0.2)).toThrow(named('EmptyUpdatesError'))
  })
})
