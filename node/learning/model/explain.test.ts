import { describe, expect, it } from 'vitest'
import { explainOcclusion } from './explain.ts'
import { createMlp } from './mlp.ts'
import { predictOne } from './mlp-predict.ts'

/** a model whose score depends only on feature b: logit = 4 * relu(b) - 1 */
function onlyB() {
  const m = createMlp({ schema: { name: 't', version: 1 }, featureNames: ['a', 'b', 'c'], hidden: [1] })
  m.weights = [Float32Array.of(0, 1, 0), Float32Array.of(0), Float32Array.of(4), Float32Array.of(-1)]
  return m
}

describe('explainOcclusion', () => {
  it('credits the feature that drives the score, in score units, largest first', () => {
    const m = onlyB()
    const x = [5, 1, -3]
    const c = explainOcclusion(m, x)
    expect(c[0].feature).toBe('b')
    expect(c[0].contribution).toBeCloseTo(predictOne(m, x) - predictOne(m, [5, 0, -3]), 10)
    expect(c[0].contribution).toBeGreaterThan(0.4)
    expect(c.slice(1).every((f) => f.contribution === 0)).toBe(true)
  })

  it('uses the standardiser mean as the baseline', () => {
    const m = onlyB()
    m.standardizer = { mean: Float32Array.of(0, 1, 0), std: Float32Array.of(1, 1, 1) }
    // b at its training mean contributes nothing
    expect(explainOcclusion(m, [2, 1, 2]).every((f) => f.contribution === 0)).toBe(true)
  })

  it('rejects a vector of the wrong length', () => {
    expect(() => explainOcclusion(onlyB(), [1, 2])).toThrow(
      expect.objectContaining({ name: 'DimensionMismatchError' }),
    )
  })
})
