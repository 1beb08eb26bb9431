/**
 * Scoring. One vector (the live detector, one closed window at a time) runs in plain JavaScript: a 19-64-32-1
 * network is ~3,000 multiply-adds, far less than a tensor round trip. Many vectors (evaluation) run as one
 * batched TensorFlow.js forward pass. Both take raw feature vectors and apply the model's standardiser.
 */
import type * as TfModule from '@tensorflow/tfjs'
import type { Tf } from '../backend.ts'
import { layerShapes } from './mlp.ts'
import type { MlpModel } from './mlp.ts'
import { DimensionMismatchError } from './model-errors.ts'
import { standardize } from './standardizer.ts'

type Tensor = TfModule.Tensor
type Tensor2D = TfModule.Tensor2D

export function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z))
}

/** the output logit for one already standardised vector */
export function logitStandardized(model: MlpModel, z: ArrayLike<number>): number {
  const shapes = layerShapes(model.architecture)
  let a: ArrayLike<number> = z
  for (let l = 0; l < shapes.length; l++) {
    const [inp, out] = shapes[l]
    const w = model.weights[2 * l]
    const next = Float64Array.from(model.weights[2 * l + 1])
    for (let i = 0; i < inp; i++) {
      const ai = a[i]
      if (ai === 0) continue
      const row = i * out
      for (let j = 0; j < out; j++) next[j] += ai * w[row + j]
    }
    if (l < shapes.length - 1) for (let j = 0; j < out; j++) if (next[j] < 0) next[j] = 0
    a = next
  }
  return a[0]
}

/** P(attack) in 0..1 for one raw feature vector in the model's schema order */
export function predictOne(model: MlpModel, x: ArrayLike<number>): number {
  if (x.length !== model.architecture.inputDim) {
    throw new DimensionMismatchError(`model takes ${model.architecture.inputDim} features, got ${x.length}`)
  }
  return sigmoid(logitStandardized(model, standardize(model.standardizer, x)))
}

/** P(attack) for each row of a raw row-major n x inputDim matrix, as one batched forward pass */
export function predictBatch(tf: Tf, model: MlpModel, x: Float32Array, batchSize = 8192): Float32Array {
  const d = model.architecture.inputDim
  if (x.length % d !== 0) throw new DimensionMismatchError(`${x.length} values are not rows of ${d}`)
  const n = x.length / d
  const z = standardize(model.standardizer, x)
  const out = new Float32Array(n)
  const shapes = layerShapes(model.architecture)
  const params = tf.tidy(() =>
    shapes.flatMap(([inp, o], l) => [
      tf.tensor2d(model.weights[2 * l], [inp, o]),
      tf.tensor1d(model.weights[2 * l + 1]),
    ]),
  )
  try {
    for (let start = 0; start < n; start += batchSize) {
      const rows = Math.min(batchSize, n - start)
      const p = tf.tidy(() => {
        let a: Tensor = tf.tensor2d(z.subarray(start * d, (start + rows) * d), [rows, d])
        for (let l = 0; l < shapes.length; l++) {
          const h = tf.add(tf.matMul(a as Tensor2D, params[2 * l] as Tensor2D), params[2 * l + 1])
          a = l < shapes.length - 1 ? tf.relu(h) : tf.sigmoid(h)
        }
        return a
      })
      out.set(p.dataSync() as Float32Array, start)
      p.dispose()
    }
  } finally {
    tf.dispose(params)
  }
  return out
}
