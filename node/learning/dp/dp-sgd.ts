/**
 * DP-SGD (Abadi et al. 2016) as the sampled Gaussian mechanism the accountant analyses: each record joins a step's
 * batch independently with probability q (Poisson sampling), each example's gradient is clipped to L2 norm C,
 * the clipped gradients are summed, N(0, σ²C²) noise is added to every coordinate, and the sum is divided by the
 * expected batch size qN (not the realised one, whose size would itself leak membership). Any optimiser may then
 * take the step. Privacy spent after T steps is crypto/privacy's computeEpsilon(q, σ, T, δ).
 */
import type * as TfModule from '@tensorflow/tfjs'
import { computeEpsilon } from '../../../crypto/privacy/index.ts'
import type { PrivacySpent } from '../../../crypto/privacy/index.ts'
import type { Prng } from '../../detect/features/prng.ts'
import type { Tf } from '../backend.ts'
import { layerShapes } from '../model/mlp.ts'
import type { MlpArchitecture } from '../model/mlp.ts'
import type { GaussianSource } from './gaussian-noise.ts'
import { mlpBackprop } from './mlp-backprop.ts'
import type { MlpParams } from './mlp-backprop.ts'
import { clipFactors, perExampleGradientNorms, weightedGradientSum } from './per-example-gradients.ts'

type Tensor1D = TfModule.Tensor1D
type Tensor2D = TfModule.Tensor2D

export class InvalidTrainingConfigError extends Error {
  override name = 'InvalidTrainingConfigError'
}

/** Training produced a non-finite weight: the starting model or the step size blew it up. */
export class TrainingDivergedError extends Error {
  override name = 'TrainingDivergedError'
}

/** indices of the records in one Poisson-sampled batch: each of n joins independently with probability q */
export function poissonSample(n: number, sampleRate: number, rand: Prng): Int32Array {
  const picked: number[] = []
  for (let i = 0; i < n; i++) if (rand() < sampleRate) picked.push(i)
  return Int32Array.from(picked)
}

/** weights as tensors for a step; dispose them (tf.dispose) when the step is done */
export function weightsToTensors(tf: Tf, arch: MlpArchitecture, weights: readonly Float32Array[]): MlpParams {
  return layerShapes(arch).flatMap(([inp, out], l) => [
    tf.tensor2d(weights[2 * l], [inp, out]),
    tf.tensor1d(weights[2 * l + 1]),
  ])
}

/** rows `indices` of a row-major matrix, and their labels, as a batch */
export function gatherBatch(
  x: Float32Array,
  y: ArrayLike<number>,
  dims: number,
  indices: ArrayLike<number>,
): { x: Float32Array; y: Float32Array } {
  const bx = new Float32Array(indices.length * dims)
  const by = new Float32Array(indices.length)
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]
    bx.set(x.subarray(i * dims, (i + 1) * dims), k * dims)
    by[k] = y[i]
  }
  return { x: bx, y: by }
}

export interface BatchGradientResult {
  /** in weights order [dW1, db1, ...] */
  gradient: Float32Array[]
  batchSize: number
  lossSum: number
  /** examples whose gradient norm exceeded the clip norm (0 when not clipping) */
  clipped: number
}

function summedGradient(
  tf: Tf,
  params: MlpParams,
  x: Float32Array,
  y: Float32Array,
  clipNorm: number,
): BatchGradientResult {
  const rows = y.length
  if (rows === 0) {
    return {
      gradient: params.map((p) => new Float32Array(p.size)),
      batchSize: 0,
      lossSum: 0,
      clipped: 0,
    }
  }
  const dims = x.length / rows
  const out = tf.tidy(() => {
    const bp = mlpBackprop(tf, params, tf.tensor2d(x, [rows, dims]) as Tensor2D, tf.tensor1d(y) as Tensor1D)
    const norms = perExampleGradientNorms(tf, bp)
    const sums = weightedGradientSum(tf, bp, clipFactors(tf, norms, clipNorm))
    const clipped =
      clipNorm === Infinity ? tf.scalar(0) : tf.sum(tf.cast(tf.greater(norms, clipNorm), 'float32'))
    return [...sums, tf.sum(bp.loss), clipped]
  })
  const values = out.map((t) => t.dataSync() as Float32Array)
  tf.dispose(out)
  return {
    gradient: values.slice(0, -2).map((v) => Float32Array.from(v)),
    batchSize: rows,
    lossSum: values[values.length - 2][0],
    clipped: values[values.length - 1][0],
  }
}

/** the ordinary mean gradient of the batch's loss (non-private training) */
export function meanGradient(
  tf: Tf,
  params: MlpParams,
  x: Float32Array,
  y: Float32Array,
): BatchGradientResult {
  const r = summedGradient(tf, params, x, y, Infinity)
  const scale = r.batchSize > 0 ? 1 / r.batchSize : 0
  for (const g of r.gradient) for (let i = 0; i < g.length; i++) g[i] *= scale
  return r
}

export interface DpGradientInit {
  /** C: every example's gradient is scaled to L2 norm at most C */
  clipNorm: number
  /** σ: noise standard deviation is σC per coordinate */
  noiseMultiplier: number
  /** qN, the divisor; the realised batch size is random under Poisson sampling */
  expectedBatchSize: number
  noise: GaussianSource
}

/** (Σ_i clip(g_i, C) + N(0, σ²C² I)) / (qN) for one Poisson-sampled batch */
export function dpSgdGradient(
  tf: Tf,
  params: MlpParams,
  x: Float32Array,
  y: Float32Array,
  init: DpGradientInit,
): BatchGradientResult {
  const { clipNorm, noiseMultiplier, expectedBatchSize, noise } = init
  if (!(clipNorm > 0) || !(noiseMultiplier >= 0) || !(expectedBatchSize > 0)) {
    throw new InvalidTrainingConfigError(
      `clip norm and expected batch size must be > 0, noise multiplier >= 0 (got ${clipNorm}, ${expectedBatchSize}, ${noiseMultiplier})`,
    )
  }
  if (noiseMultiplier > 0 && clipNorm === Infinity) {
    throw new InvalidTrainingConfigError('noise needs a finite clip norm: sensitivity would be unbounded')
  }
  const r = summedGradient(tf, params, x, y, clipNorm)
  const std = noiseMultiplier * clipNorm
  const scale = 1 / expectedBatchSize
  for (const g of r.gradient) {
    for (let i = 0; i < g.length; i++) g[i] = (g[i] + (std > 0 ? std * noise() : 0)) * scale
  }
  return r
}

/** epsilon spent by `steps` DP-SGD steps at sampling rate q and noise multiplier σ */
export function dpSgdEpsilon(
  sampleRate: number,
  noiseMultiplier: number,
  steps: number,
  delta: number,
): PrivacySpent {
  return computeEpsilon({ sampleRate, noiseMultiplier, steps, delta })
}
