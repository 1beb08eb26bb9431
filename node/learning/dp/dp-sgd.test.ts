import type * as TfModule from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { computeEpsilon } from '../../../crypto/privacy/index.ts'
import { gaussian, mulberry32 } from '../../detect/features/prng.ts'
import { initTensorflow } from '../backend.ts'
import type { Tf } from '../backend.ts'
import { createMlp, getFlatWeights } from '../model/mlp.ts'
import type { MlpModel } from '../model/mlp.ts'
import { predictBatch } from '../model/mlp-predict.ts'
import { dpSgdGradient, meanGradient, poissonSample, weightsToTensors } from './dp-sgd.ts'
import { seededGaussian } from './gaussian-noise.ts'
import { trainLocal } from './local-training.ts'
import { mlpBackprop } from './mlp-backprop.ts'
import type { MlpParams } from './mlp-backprop.ts'
import {
  clipFactors,
  perExampleGradientNorms,
  perExampleGradients,
  weightedGradientSum,
} from './per-example-gradients.ts'

let tf: Tf
beforeAll(async () => {
  tf = (await initTensorflow()).tf
})

const DIMS = 5
function toyModel(seed = 1): MlpModel {
  return createMlp({
    schema: { name: 'toy', version: 1 },
    featureNames: Array.from({ length: DIMS }, (_, i) => `f${i}`),
    hidden: [4, 3],
    seed,
  })
}

function toyBatch(rows: number, seed = 2): { x: Float32Array; y: Float32Array } {
  const rand = mulberry32(seed)
  const x = Float32Array.from({ length: rows * DIMS }, () => 2 * gaussian(rand))
  const y = Float32Array.from({ length: rows }, () => (rand() < 0.5 ? 1 : 0))
  return { x, y }
}

/** the reference: tf.grads of one example's loss, written independently of mlpBackprop */
function referenceGradient(params: MlpParams, x: Float32Array, y: number): Float32Array[] {
  const f = (...ps: TfModule.Tensor[]) => {
    let a: TfModule.Tensor = tf.tensor2d(x, [1, DIMS])
    for (let l = 0; l < ps.length / 2; l++) {
      const h = tf.add(tf.matMul(a as TfModule.Tensor2D, ps[2 * l] as TfModule.Tensor2D), ps[2 * l + 1])
      a = l < ps.length / 2 - 1 ? tf.relu(h) : h
    }
    return tf.losses.sigmoidCrossEntropy(tf.tensor2d([[y]]), a as TfModule.Tensor2D) as TfModule.Scalar
  }
  const grads = tf.grads(f)(params)
  const out = grads.map((g) => Float32Array.from(g.dataSync()))
  tf.dispose(grads)
  return out
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length)
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]))
  return m
}

function flatNorm(gs: readonly ArrayLike<number>[]): number {
  let s = 0
  for (const g of gs) for (let i = 0; i < g.length; i++) s += g[i] * g[i]
  return Math.sqrt(s)
}

describe('per-example gradients', () => {
  it('match tf.grad on each example alone', () => {
    const model = toyModel()
    const params = weightsToTensors(tf, model.architecture, model.weights)
    const B = 7
    const { x, y } = toyBatch(B)
    const perExample = tf.tidy(() =>
      perExampleGradients(tf, mlpBackprop(tf, params, tf.tensor2d(x, [B, DIMS]), tf.tensor1d(y))),
    )
    const values = perExample.map((t) => t.dataSync())
    for (let i = 0; i < B; i++) {
      const ref = referenceGradient(params, x.subarray(i * DIMS, (i + 1) * DIMS), y[i])
      ref.forEach((r, k) => {
        const per = values[k].length / B
        expect(maxAbsDiff(values[k].subarray(i * per, (i + 1) * per), r)).toBeLessThan(1e-5)
      })
    }
    tf.dispose([...perExample, ...params])
  })

  it('norms from activations and deltas equal the norms of the materialised gradients', () => {
    const model = toyModel(3)
    const params = weightsToTensors(tf, model.architecture, model.weights)
    const B = 9
    const { x, y } = toyBatch(B, 4)
    const [norms, ...perExample] = tf.tidy(() => {
      const bp = mlpBackprop(tf, params, tf.tensor2d(x, [B, DIMS]), tf.tensor1d(y))
      return [perExampleGradientNorms(tf, bp), ...perExampleGradients(tf, bp)]
    })
    const values = perExample.map((t) => t.dataSync())
    const n = norms.dataSync()
    for (let i = 0; i < B; i++) {
      const parts = values.map((v) => v.subarray((i * v.length) / B, ((i + 1) * v.length) / B))
      expect(n[i]).toBeCloseTo(flatNorm(parts), 4)
    }
    tf.dispose([norms, ...perExample, ...params])
  })

  it('clipping bounds every example to C and leaves smaller ones alone', () => {
    const model = toyModel(5)
    const params = weightsToTensors(tf, model.architecture, model.weights)
    const B = 12
    const { x, y } = toyBatch(B, 6)
    const [norms, ...perExample] = tf.tidy(() => {
      const bp = mlpBackprop(tf, params, tf.tensor2d(x, [B, DIMS]), tf.tensor1d(y))
      return [perExampleGradientNorms(tf, bp), ...perExampleGradients(tf, bp)]
    })
    const raw = norms.dataSync()
    const sorted = Array.from(raw).sort((a, b) => a - b)
    const C = sorted[B >> 1] // about half the examples get clipped
    for (let i = 0; i < B; i++) {
      // clip example i alone and compare to the summed-clipped gradient of a one-example batch
      const single = tf.tidy(() => {
        const bp = mlpBackprop(
          tf,
          params,
          tf.tensor2d(x.subarray(i * DIMS, (i + 1) * DIMS), [1, DIMS]),
          tf.tensor1d([y[i]]),
        )
        return weightedGradientSum(tf, bp, clipFactors(tf, perExampleGradientNorms(tf, bp), C))
      })
      const g = single.map((t) => t.dataSync())
      expect(flatNorm(g)).toBeLessThanOrEqual(C * (1 + 1e-5))
      expect(flatNorm(g)).toBeCloseTo(Math.min(raw[i], C), 4)
      tf.dispose(single)
    }
    tf.dispose([norms, ...perExample, ...params])
  })
})

describe('dpSgdGradient', () => {
  it('with sigma = 0 and C = Infinity is the ordinary mean gradient', () => {
    const model = toyModel(7)
    const params = weightsToTensors(tf, model.architecture, model.weights)
    const B = 16
    const { x, y } = toyBatch(B, 8)
    const dp = dpSgdGradient(tf, params, x, y, {
      clipNorm: Infinity,
      noiseMultiplier: 0,
      expectedBatchSize: B,
      noise: seededGaussian(1),
    })
    const plain = meanGradient(tf, params, x, y)
    // and both equal tf.grad of the batch's mean loss
    const f = (...ps: TfModule.Tensor[]) => {
      let a: TfModule.Tensor = tf.tensor2d(x, [B, DIMS])
      for (let l = 0; l < ps.length / 2; l++) {
        const h = tf.add(tf.matMul(a as TfModule.Tensor2D, ps[2 * l] as TfModule.Tensor2D), ps[2 * l + 1])
        a = l < ps.length / 2 - 1 ? tf.relu(h) : h
      }
      return tf.losses.sigmoidCrossEntropy(tf.tensor2d(y, [B, 1]), a as TfModule.Tensor2D) as TfModule.Scalar
    }
    const ref = tf.grads(f)(params)
    ref.forEach((r, k) => {
      expect(maxAbsDiff(dp.gradient[k], plain.gradient[k])).toBe(0)
      expect(maxAbsDiff(dp.gradient[k], r.dataSync())).toBeLessThan(1e-5)
    })
    tf.dispose([...ref, ...params])
  })

  it('adds noise of standard deviation sigma * C per coordinate (before dividing by qN)', () => {
    const model = createMlp({
      schema: { name: 'toy', version: 1 },
      featureNames: Array.from({ length: 50 }, (_, i) => `f${i}`),
      hidden: [64, 32],
      seed: 1,
    })
    const params = weightsToTensors(tf, model.architecture, model.weights)
    const sigma = 1.3
    const C = 0.7
    const qN = 4
    // an empty Poisson batch: the gradient is pure noise / qN
    const r = dpSgdGradient(tf, params, new Float32Array(0), new Float32Array(0), {
      clipNorm: C,
      noiseMultiplier: sigma,
      expectedBatchSize: qN,
      noise: seededGaussian(42),
    })
    const all = getFlatWeights({ ...model, weights: r.gradient })
    let sum = 0
    let sq = 0
    for (const v of all) {
      sum += v * qN
      sq += (v * qN) ** 2
    }
    const mean = sum / all.length
    const std = Math.sqrt(sq / all.length - mean ** 2)
    expect(all.length).toBeGreaterThan(5000)
    expect(Math.abs(mean)).toBeLessThan(0.05 * sigma * C)
    expect(std / (sigma * C)).toBeGreaterThan(0.97)
    expect(std / (sigma * C)).toBeLessThan(1.03)
    tf.dispose(params)
  })

  it('refuses noise without a finite clip norm', () => {
    const model = toyModel()
    const params = weightsToTensors(tf, model.architecture, model.weights)
    const { x, y } = toyBatch(2)
    expect(() =>
      dpSgdGradient(tf, params, x, y, {
        clipNorm: Infinity,
        noiseMultiplier: 1,
        expectedBatchSize: 2,
        noise: seededGaussian(1),
      }),
    ).toThrow(expect.objectContaining({ name: 'InvalidTrainingConfigError' }))
    tf.dispose(params)
  })
})

describe('poissonSample', () => {
  it('includes each record with probability q', () => {
    const rand = mulberry32(9)
    let total = 0
    for (let t = 0; t < 200; t++) total += poissonSample(1000, 0.05, rand).length
    expect(total / 200).toBeGreaterThan(47)
    expect(total / 200).toBeLessThan(53)
  })
})

describe('trainLocal', () => {
  function separable(n: number, seed: number) {
    const rand = mulberry32(seed)
    const x = new Float32Array(n * DIMS)
    const y = new Uint8Array(n)
    for (let i = 0; i < n; i++) {
      y[i] = rand() < 0.5 ? 1 : 0
      for (let j = 0; j < DIMS; j++) x[i * DIMS + j] = gaussian(rand) + (j < 2 ? (y[i] ? 1.5 : -1.5) : 0)
    }
    return { x, y }
  }
  function accuracy(model: MlpModel, data: { x: Float32Array; y: Uint8Array }): number {
    const p = predictBatch(tf, model, data.x)
    let ok = 0
    p.forEach((s, i) => (ok += Number((s >= 0.5 ? 1 : 0) === data.y[i])))
    return ok / p.length
  }

  it('learns a separable problem without DP and returns new - old as the delta', () => {
    const model = toyModel(11)
    const data = separable(600, 12)
    const r = trainLocal(tf, model, data, { epochs: 5, batchSize: 32, optimizer: 'adam', learningRate: 0.01 })
    expect(accuracy(r.model, data)).toBeGreaterThan(0.9)
    const before = getFlatWeights(model)
    const after = getFlatWeights(r.model)
    expect(
      maxAbsDiff(
        after.map((w, i) => w - before[i]),
        r.delta,
      ),
    ).toBe(0)
    expect(r.privacy).toBeUndefined()
    expect(r.steps).toBe(Math.ceil((5 * 600) / 32))
  })

  it('with DP counts steps, reports epsilon from the accountant and still learns', () => {
    const model = toyModel(13)
    const data = separable(1000, 14)
    const privacy = { clipNorm: 1, noiseMultiplier: 1.1, delta: 1e-5, noise: seededGaussian(15) }
    const r = trainLocal(tf, model, data, { epochs: 3, batchSize: 50, learningRate: 0.2, privacy })
    expect(r.steps).toBe(60)
    expect(r.privacy!.sampleRate).toBe(0.05)
    const expected = computeEpsilon({ sampleRate: 0.05, noiseMultiplier: 1.1, steps: 60, delta: 1e-5 })
    expect(r.privacy!.epsilon).toBe(expected.epsilon)
    expect(r.privacy!.totalEpsilon).toBe(expected.epsilon)
    const again = trainLocal(tf, r.model, data, {
      epochs: 3,
      batchSize: 50,
      learningRate: 0.2,
      privacy: { ...privacy, history: [r.privacy!] },
    })
    expect(again.privacy!.totalEpsilon).toBeGreaterThan(expected.epsilon)
    expect(accuracy(again.model, data)).toBeGreaterThan(0.85)
  })
})
