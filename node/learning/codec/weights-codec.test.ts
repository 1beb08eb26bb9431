import { describe, expect, it } from 'vitest'
import { seededRandom } from '../aggregation/test-helpers.ts'
import { decodeWeights, encodeWeights, flattenTensors, splitTensors } from './weights-codec.ts'

const random = seededRandom(11)
const shapes = [[4, 3], [3], [3, 2], [2]]
const tensors = shapes.map((s) =>
  Float32Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => (random() - 0.5) * 4),
)

describe('weights codec', () => {
  it('f32 round-trips exactly, little-endian', () => {
    const encoded = encodeWeights(tensors, shapes, 'f32')
    expect(encoded.data.length).toBe(23 * 4)
    expect(decodeWeights(encoded)).toEqual(tensors)
    const one = encodeWeights([Float32Array.from([1])], [[1]], 'f32')
    expect(Array.from(one.data)).toEqual([0, 0, 0x80, 0x3f])
  })

  it('f16 halves the size and round-trips within float16 precision, little-endian', () => {
    const encoded = encodeWeights(tensors, shapes, 'f16')
    expect(encoded.data.length).toBe(23 * 2)
    expect(encoded.scales).toBeUndefined()
    decodeWeights(encoded).forEach((t, i) =>
      t.forEach((v, j) =>
        expect(Math.abs(v - tensors[i][j])).toBeLessThanOrEqual(Math.abs(tensors[i][j]) * 2 ** -11),
      ),
    )
    expect(Array.from(encodeWeights([Float32Array.from([1])], [[1]], 'f16').data)).toEqual([0x00, 0x3c])
  })

  it('i8 quarters the size with one scale per tensor and errors under one step of that tensor', () => {
    const encoded = encodeWeights(tensors, shapes, 'i8', { rounding: 'nearest' })
    expect(encoded.data.length).toBe(23)
    expect(encoded.scales).toHaveLength(4)
    decodeWeights(encoded).forEach((t, i) =>
      t.forEach((v, j) =>
        expect(Math.abs(v - tensors[i][j])).toBeLessThanOrEqual(encoded.scales![i] / 2 + 1e-9),
      ),
    )
    const stochastic = encodeWeights(tensors, shapes, 'i8', { random: seededRandom(2) })
    decodeWeights(stochastic).forEach((t, i) =>
      t.forEach((v, j) => expect(Math.abs(v - tensors[i][j])).toBeLessThan(stochastic.scales![i])),
    )
  })

  it('decodes a sub-array view (bytes that came out of a bigger CBOR buffer)', () => {
    const encoded = encodeWeights(tensors, shapes, 'f16')
    const padded = new Uint8Array(encoded.data.length + 3)
    padded.set(encoded.data, 3)
    expect(decodeWeights({ ...encoded, data: padded.subarray(3) })).toEqual(decodeWeights(encoded))
  })

  it('flattens and splits in the fixed tensor order', () => {
    const flat = flattenTensors(tensors)
    expect(flat.length).toBe(23)
    expect(splitTensors(flat, shapes)).toEqual(tensors)
  })

  it('refuses shape mismatches with named errors', () => {
    const mismatch = expect.objectContaining({ name: 'ShapeMismatchError' })
    expect(() => encodeWeights(tensors, shapes.slice(1), 'f16')).toThrow(mismatch)
    expect(() => encodeWeights(tensors, [[3, 4], [3], [3, 2], [3]], 'f16')).toThrow(mismatch)
    const encoded = encodeWeights(tensors, shapes, 'i8')
    expect(() => decodeWeights({ ...encoded, data: encoded.data.subarray(1) })).toThrow(mismatch)
    expect(() => decodeWeights({ ...encoded, scales: [1] })).toThrow(mismatch)
    expect(() => splitTensors(new Float32Array(5), shapes)).toThrow(mismatch)
    const invalid = expect.objectContaining({ name: 'InvalidEncodingError' })
    expect(() => decodeWeights({ ...encoded, shapes: [[0]] })).toThrow(invalid)
    expect(() => decodeWeights({ ...encoded, encoding: 'f64' as 'f16' })).toThrow(invalid)
  })
})
