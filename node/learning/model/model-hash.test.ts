import { describe, expect, it } from 'vitest'
import { LIVE_FEATURE_NAMES, LIVE_FEATURE_SCHEMA } from './feature-schema-ref.ts'
import { createMlp } from './mlp.ts'
import { canonicalModelBytes, modelHash } from './model-hash.ts'

const live = () => createMlp({ schema: LIVE_FEATURE_SCHEMA, featureNames: LIVE_FEATURE_NAMES, seed: 1 })

describe('modelHash', () => {
  it('is lowercase hex SHA-256, stable for equal models', () => {
    const h = modelHash(live())
    expect(h).toMatch(/^[0-9a-f]{64}$/)
    expect(modelHash(live())).toBe(h)
  })

  it('pins the canonical encoding (test vector: a 1-input, no-hidden model)', () => {
    const m = createMlp({ schema: { name: 't', version: 1 }, featureNames: ['a'], hidden: [] })
    m.weights = [Float32Array.of(1.5), Float32Array.of(-0)]
    const bytes = canonicalModelBytes(m)
    const header =
      '{"format":"shieldwall-mlp/1","architecture":{"kind":"mlp","inputDim":1,"hidden":[]},"schema":{"name":"t","version":1}}'
    expect(new TextDecoder().decode(bytes.subarray(0, header.length))).toBe(header)
    // 0x00, mean 0, std 1, W 1.5, b -0 written as +0; all little-endian float32. The hash was computed
    // independently with Python's hashlib over struct.pack('<4f', 0, 1, 1.5, 0).
    expect(Array.from(bytes.subarray(header.length))).toEqual([
      0, 0, 0, 0, 0, 0, 0, 0x80, 0x3f, 0, 0, 0xc0, 0x3f, 0, 0, 0, 0,
    ])
    expect(modelHash(m)).toBe('01b358f88effc0531fc58c47eaf8838023d1a6392dff9d2d9a60aae9bc881e88')
  })

  it('changes with any weight, the standardiser, the schema version or the architecture', () => {
    const base = modelHash(live())
    const w = live()
    w.weights[2][7] += 1e-3
    expect(modelHash(w)).not.toBe(base)
    const s = live()
    s.standardizer.std[0] = 2
    expect(modelHash(s)).not.toBe(base)
    const v = live()
    v.schema = { ...v.schema, version: 2 }
    expect(modelHash(v)).not.toBe(base)
    const a = createMlp({
      schema: LIVE_FEATURE_SCHEMA,
      featureNames: LIVE_FEATURE_NAMES,
      hidden: [32, 64],
      seed: 1,
    })
    expect(modelHash(a)).not.toBe(base)
  })

  it('treats -0 and +0 as the same weight', () => {
    const a = live()
    const b = live()
    a.weights[1][0] = 0
    b.weights[1][0] = -0
    expect(modelHash(a)).toBe(modelHash(b))
  })
})
