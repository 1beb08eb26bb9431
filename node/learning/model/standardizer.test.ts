import { describe, expect, it } from 'vitest'
import {
  featureMoments,
  fitStandardizer,
  mergeFeatureMoments,
  standardize,
  standardizerFromMoments,
} from './standardizer.ts'

describe('standardizer', () => {
  const x = Float32Array.of(1, 10, 3, 10, 5, 10, 7, 10) // 4 rows x 2; column 2 constant

  it('centres and scales each column; a constant column is centred, not divided by 0', () => {
    const s = fitStandardizer(x, 2)
    expect(Array.from(s.mean)).toEqual([4, 10])
    expect(s.std[0]).toBeCloseTo(Math.sqrt(5))
    expect(s.std[1]).toBe(1)
    const z = standardize(s, x)
    expect(z[0]).toBeCloseTo(-3 / Math.sqrt(5))
    expect(z[1]).toBe(0)
  })

  it('pooling per-site moments equals fitting on the union', () => {
    const a = featureMoments(x.subarray(0, 4), 2)
    const b = featureMoments(x.subarray(4), 2)
    const pooled = standardizerFromMoments(mergeFeatureMoments([a, b]))
    expect(pooled).toEqual(fitStandardizer(x, 2))
  })

  it('rejects data that are not whole rows', () => {
    expect(() => featureMoments(Float32Array.of(1, 2, 3), 2)).toThrow(
      expect.objectContaining({ name: 'DimensionMismatchError' }),
    )
  })
})
