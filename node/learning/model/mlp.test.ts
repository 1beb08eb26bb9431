import { beforeAll, describe, expect, it } from 'vitest'
import { gaussian, mulberry32 } from '../../detect/features/prng.ts'
import { initTensorflow } from '../backend.ts'
import type { Tf } from '../backend.ts'
import { LIVE_FEATURE_NAMES, LIVE_FEATURE_SCHEMA, assertSameSchema, schemaId } from './feature-schema-ref.ts'
import {
  applyDelta,
  createMlp,
  getFlatWeights,
  parameterCount,
  unflattenWeights,
  withFlatWeights,
} from './mlp.ts'
import { predictBatch, predictOne } from './mlp-predict.ts'
import { fitStandardizer } from './standardizer.ts'

let tf: Tf
beforeAll(async () => {
  tf = (await initTensorflow()).tf
})

const live = (seed = 1) => createMlp({ schema: LIVE_FEATURE_SCHEMA, featureNames: LIVE_FEATURE_NAMES, seed })

describe('createMlp', () => {
  it('builds the live 19-64-32-1 model, the same for the same seed', () => {
    const a = live(7)
    expect(a.architecture).toEqual({ kind: 'mlp', inputDim: 19, hidden: [64, 32] })
    expect(schemaId(a.schema)).toBe('window/1')
    expect(parameterCount(a.architecture)).toBe(19 * 64 + 64 + 64 * 32 + 32 + 32 + 1)
    expect(getFlatWeights(a)).toEqual(getFlatWeights(live(7)))
    expect(getFlatWeights(a)).not.toEqual(getFlatWeights(live(8)))
  })

  it('rejects a bad architecture', () => {
    expect(() =>
      createMlp({ schema: LIVE_FEATURE_SCHEMA, featureNames: LIVE_FEATURE_NAMES, hidden: [0] }),
    ).toThrow(expect.objectContaining({ name: 'InvalidModelError' }))
  })
})

describe('flat weights', () => {
  it('round-trip and never alias the model', () => {
    const m = live()
    const flat = getFlatWeights(m)
    expect(flat.length).toBe(parameterCount(m.architecture))
    const back = unflattenWeights(m.architecture, flat)
    expect(back).toEqual(m.weights)
    flat[0] += 1
    expect(m.weights[0][0]).not.toBe(flat[0])
  })

  it('applyDelta adds a flat update; a wrong length is a DimensionMismatchError', () => {
    const m = live()
    const delta = new Float32Array(parameterCount(m.architecture)).fill(0.5)
    const next = applyDelta(m, delta)
    expect(next.weights[1][0]).toBeCloseTo(m.weights[1][0] + 0.5, 6)
    expect(() => withFlatWeights(m, new Float32Array(3))).toThrow(
      expect.objectContaining({ name: 'DimensionMismatchError' }),
    )
    const nan = new Float32Array(delta.length)
    nan[5] = NaN
    expect(() => applyDelta(m, nan)).toThrow(expect.objectContaining({ name: 'InvalidModelError' }))
  })
})

describe('schemas', () => {
  it('a model only takes vectors of its own schema', () => {
    expect(() => assertSameSchema(LIVE_FEATURE_SCHEMA, { name: 'nsl-kdd', version: 1 })).toThrow(
      expect.objectContaining({ name: 'FeatureSchemaMismatchError' }),
    )
    expect(() => predictOne(live(), new Float32Array(122))).toThrow(
      expect.objectContaining({ name: 'DimensionMismatchError' }),
    )
  })
})

describe('prediction', () => {
  it('the single-vector path equals the batched TensorFlow path, standardiser included', () => {
    const rand = mulberry32(3)
    const n = 50
    const x = Float32Array.from({ length: n * 19 }, () => 3 + 2 * gaussian(rand))
    const m = createMlp({
      schema: LIVE_FEATURE_SCHEMA,
      featureNames: LIVE_FEATURE_NAMES,
      standardizer: fitStandardizer(x, 19),
      seed: 4,
    })
    const batch = predictBatch(tf, m, x, 16)
    for (let i = 0; i < n; i++) {
      const one = predictOne(m, x.subarray(i * 19, (i + 1) * 19))
      expect(one).toBeGreaterThanOrEqual(0)
      expect(one).toBeLessThanOrEqual(1)
      expect(one).toBeCloseTo(batch[i], 5)
    }
  })
})
