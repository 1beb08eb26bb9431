import { describe, expect, it } from 'vitest'
import { mulberry32 } from '../../detect/features/prng.ts'
import { binaryMetrics, rocAuc } from './metrics.ts'

describe('binaryMetrics', () => {
  it('counts the confusion matrix at the threshold', () => {
    const m = binaryMetrics([0.9, 0.8, 0.3, 0.6, 0.1, 0.5], [1, 1, 1, 0, 0, 0])
    expect([m.tp, m.fn, m.fp, m.tn]).toEqual([2, 1, 2, 1])
    expect(m.accuracy).toBeCloseTo(3 / 6)
    expect(m.precision).toBeCloseTo(2 / 4)
    expect(m.recall).toBeCloseTo(2 / 3)
    expect(m.f1).toBeCloseTo((2 * 0.5 * (2 / 3)) / (0.5 + 2 / 3))
    expect(m.fpr).toBeCloseTo(2 / 3)
  })

  it('a model that flags nothing has F1 0 and FPR 0, not NaN', () => {
    const m = binaryMetrics([0.1, 0.2], [1, 0])
    expect(m.f1).toBe(0)
    expect(m.fpr).toBe(0)
  })

  it('rejects scores and labels of different lengths', () => {
    expect(() => binaryMetrics([0.1], [1, 0])).toThrow(
      expect.objectContaining({ name: 'DimensionMismatchError' }),
    )
  })
})

describe('rocAuc', () => {
  it('equals the pairwise definition, ties counting one half', () => {
    const rand = mulberry32(5)
    const scores = Array.from({ length: 300 }, () => Math.round(rand() * 20) / 20) // many ties
    const labels = scores.map((s) => (rand() < 0.3 + 0.4 * s ? 1 : 0))
    let wins = 0
    let pairs = 0
    for (let i = 0; i < scores.length; i++) {
      for (let j = 0; j < scores.length; j++) {
        if (labels[i] === 1 && labels[j] === 0) {
          pairs++
          wins += scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0
        }
      }
    }
    expect(rocAuc(scores, labels)).toBeCloseTo(wins / pairs, 10)
  })

  it('is 1 for a perfect ranking, 0.5 for constant scores, NaN with one class', () => {
    expect(rocAuc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])).toBe(1)
    expect(rocAuc([0.5, 0.5, 0.5], [0, 1, 0])).toBe(0.5)
    expect(rocAuc([0.5, 0.7], [1, 1])).toBeNaN()
  })
})
