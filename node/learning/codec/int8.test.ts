import { describe, expect, it } from 'vitest'
import { seededRandom } from '../aggregation/test-helpers.ts'
import { dequantizeInt8, quantizeInt8 } from './int8.ts'

describe('int8 quantization', () => {
  const random = seededRandom(8)
  const values = Float32Array.from({ length: 5000 }, () => (random() - 0.5) * 0.2)

  it('round to nearest: scale = maxAbs / 127 and error at most half a step', () => {
    const { data, scale } = quantizeInt8(values, { rounding: 'nearest' })
    const maxAbs = values.reduce((m, v) => Math.max(m, Math.abs(v)), 0)
    expect(scale).toBe(Math.fround(maxAbs / 127))
    expect(Math.max(...Array.from(data, Math.abs))).toBe(127)
    const back = dequantizeInt8(data, scale)
    values.forEach((v, i) => expect(Math.abs(back[i] - v)).toBeLessThanOrEqual(scale / 2 + 1e-9))
  })

  it('stochastic: error under one step and unbiased on average', () => {
    const constant = new Float32Array(20_000).fill(0.3)
    constant[0] = 1 // scale 1/127: 0.3 sits at 38.1 steps, between two levels
    const { data, scale } = quantizeInt8(constant, { random: seededRandom(1) })
    const back = dequantizeInt8(data, scale)
    let sum = 0
    for (let i = 1; i < back.length; i++) {
      expect(Math.abs(back[i] - 0.3)).toBeLessThan(scale)
      sum += back[i]
    }
    expect(sum / (back.length - 1)).toBeCloseTo(0.3, 3)
    // whereas round to nearest is off by the same amount everywhere
    const nearest = dequantizeInt8(quantizeInt8(constant, { rounding: 'nearest' }).data, scale)
    expect(Math.abs(nearest[1] - 0.3)).toBeGreaterThan(0.0005)
  })

  it('an all-zero tensor has scale 0 and decodes to zeros', () => {
    const { data, scale } = quantizeInt8(new Float32Array(4))
    expect(scale).toBe(0)
    expect(Array.from(dequantizeInt8(data, scale))).toEqual([0, 0, 0, 0])
  })

  it('refuses non-finite values, bad scales and unknown rounding modes', () => {
    expect(() => quantizeInt8(Float32Array.from([NaN]))).toThrow(
      expect.objectContaining({ name: 'UnrepresentableValueError' }),
    )
    const invalid = expect.objectContaining({ name: 'InvalidEncodingError' })
    expect(() => dequantizeInt8(new Int8Array(1), -1)).toThrow(invalid)
    expect(() => dequantizeInt8(new Int8Array(1), NaN)).toThrow(invalid)
    expect(() => quantizeInt8(values, { rounding: 'up' as 'nearest' })).toThrow(invalid)
  })
})
