import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { encodeCanonical } from '../../../protocol/envelope/cbor.ts'
import { modelHash } from './model-hash.ts'

const ARCH = { kind: 'mlp', layers: [122, 64, 32, 2], activation: 'relu' }
const SCHEMA = 'nsl-kdd/1'
const weights = [Float32Array.from([0.5, -1.25, 3]), Float32Array.from([2])]

describe('modelHash', () => {
  it('is SHA-256 over the documented byte layout', () => {
    const meta = Buffer.from(encodeCanonical({ architecture: ARCH, featureSchema: SCHEMA }))
    const u32 = (n: number) => {
      const b = Buffer.alloc(4)
      b.writeUInt32LE(n)
      return b
    }
    const params = Buffer.alloc(16)
    ;[0.5, -1.25, 3, 2].forEach((v, i) => params.writeFloatLE(v, i * 4))
    const expected = createHash('sha256')
      .update('shieldwall/model-hash/1\n')
      .update(u32(meta.length))
      .update(meta)
      .update(u32(4))
      .update(params)
      .digest('hex')
    expect(modelHash(weights, ARCH, SCHEMA)).toBe(expected)
    expect(modelHash(weights, ARCH, SCHEMA)).toMatch(/^[0-9a-f]{64}$/)
  })

  it('is the same for a flat vector and its tensors, for any key order, and for -0 and +0', () => {
    const flat = Float32Array.from([0.5, -1.25, 3, 2])
    const reordered = { activation: 'relu', layers: [122, 64, 32, 2], kind: 'mlp' }
    expect(modelHash(flat, reordered, SCHEMA)).toBe(modelHash(weights, ARCH, SCHEMA))
    expect(modelHash(Float32Array.from([-0]), ARCH, SCHEMA)).toBe(
      modelHash(Float32Array.from([0]), ARCH, SCHEMA),
    )
  })

  it('changes with any parameter, the architecture or the feature schema', () => {
    const base = modelHash(weights, ARCH, SCHEMA)
    const nudged = [Float32Array.from([0.5, -1.25, Math.fround(3 + 2 ** -22)]), weights[1]]
    expect(modelHash(nudged, ARCH, SCHEMA)).not.toBe(base)
    expect(modelHash(weights, { ...ARCH, activation: 'tanh' }, SCHEMA)).not.toBe(base)
    expect(modelHash(weights, ARCH, 'nsl-kdd/2')).not.toBe(base)
  })

  it('refuses non-finite parameters and an empty schema', () => {
    expect(() => modelHash(Float32Array.from([NaN]), ARCH, SCHEMA)).toThrow(
      expect.objectContaining({ name: 'UnrepresentableValueError' }),
    )
    expect(() => modelHash(weights, ARCH, '')).toThrow(
      expect.objectContaining({ name: 'InvalidEncodingError' }),
    )
  })
})
