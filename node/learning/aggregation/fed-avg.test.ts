import { describe, expect, it } from 'vitest'
import { fedAvg } from './fed-avg.ts'
import { updatesOf } from './test-helpers.ts'

const named = (name: string) => expect.objectContaining({ name })

describe('fedAvg', () => {
  it('is the weighted mean', () => {
    expect(
      Array.from(
        fedAvg(
          updatesOf(
            [
              [1, 2],
              [3, 6],
            ],
            [1, 3],
          ),
        ),
      ),
    ).toEqual([2.5, 5])
    expect(
      Array.from(
        fedAvg(
          updatesOf([
            [1, -1],
            [3, 1],
            [5, 3],
          ]),
        ),
      ),
    ).toEqual([3, 1])
  })

  it('ignores zero-weight updates and does not mutate its input', () => {
    const updates = updatesOf([[1], [1000]], [2, 0])
    expect(Array.from(fedAvg(updates))).toEqual([1])
    expect(Array.from(updates[1].delta)).toEqual([1000])
  })

  it('refuses bad input with named errors', () => {
    expect(() => fedAvg([])).toThrow(named('EmptyUpdatesError'))
    expect(() => fedAvg(updatesOf([[1, 2], [1]]))).toThrow(named('DimensionMismatchError'))
    expect(() => fedAvg(updatesOf([[1], [NaN]]))).toThrow(named('InvalidUpdateError'))
    expect(() => fedAvg(updatesOf([[1], [Infinity]]))).toThrow(named('InvalidUpdateError'))
    expect(() => fedAvg(updatesOf([[1], [2]], [1, -1]))).toThrow(named('InvalidUpdateError'))
    expect(() => fedAvg(updatesOf([[1], [2]], [0, 0]))).toThrow(named('InvalidUpdateError'))
    expect(() => fedAvg([{ delta: [1] as unknown as Float32Array, weight: 1 }])).toThrow(
      named('DimensionMismatchError'),
    )
  })
})
