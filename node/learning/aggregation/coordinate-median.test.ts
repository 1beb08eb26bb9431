import { describe, expect, it } from 'vitest'
import { coordinateMedian } from './coordinate-median.ts'
import { updatesOf } from './test-helpers.ts'

describe('coordinateMedian', () => {
  it('takes the median of each coordinate independently', () => {
    const updates = updatesOf([
      [1, 10, 3],
      [2, -5, 4],
      [3, 0, 100],
    ])
    expect(Array.from(coordinateMedian(updates))).toEqual([2, 0, 4])
  })

  it('averages the two middle values for an even count', () => {
    expect(Array.from(coordinateMedian(updatesOf([[1], [2], [3], [10]])))).toEqual([2.5])
  })

  it('ignores weights unless asked', () => {
    const updates = updatesOf([[1], [2], [3]], [1, 1, 5])
    expect(Array.from(coordinateMedian(updates))).toEqual([2])
    expect(Array.from(coordinateMedian(updates, { weighted: true }))).toEqual([3])
  })

  it('the weighted median with equal weights is the plain median, odd and even', () => {
    for (const values of [[[5], [1], [4]], [[5], [1], [4], [2]], [[7]]]) {
      const plain = coordinateMedian(updatesOf(values))
      const equal = coordinateMedian(
        updatesOf(
          values,
          values.map(() => 3),
        ),
        { weighted: true },
      )
      expect(Array.from(equal)).toEqual(Array.from(plain))
    }
  })

  it('the weighted median skips zero-weight updates', () => {
    const updates = updatesOf([[1], [2], [1000], [3]], [1, 1, 0, 1])
    expect(Array.from(coordinateMedian(updates, { weighted: true }))).toEqual([2])
  })

  it('refuses an empty round', () => {
    expect(() => coordinateMedian([])).toThrow(expect.objectContaining({ name: 'EmptyUpdatesError' }))
  })
})
