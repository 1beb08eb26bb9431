/**
 * One participant's local training, as a federated round runs it: start from the shared model, take SGD/Adam steps
 * on local records (DP-SGD when `privacy` is set), and hand back the weight delta to aggregate plus the privacy
 * spent. Raw feature rows go in; the model's standardiser is applied once here.
 */
import { epsilonForHistory } from '../../../crypto/privacy/index.ts'
import type { SampledGaussianSteps } from '../../../crypto/privacy/index.ts'
import { mulberry32 } from '../../detect/features/prng.ts'
import type { Tf } from '../backend.ts'
import { getFlatWeights, withFlatWeights, flattenWeights } from '../model/mlp.ts'
import type { MlpModel } from '../model/mlp.ts'
import { DimensionMismatchError } from '../model/model-errors.ts'
import { standardize } from '../model/standardizer.ts'
import {
  InvalidTrainingConfigError,
  TrainingDivergedError,
  dpSgdEpsilon,
  dpSgdGradient,
  gatherBatch,
  meanGradient,
  poissonSample,
  weightsToTensors,
} from './dp-sgd.ts'
import { secureGaussian } from './gaussian-noise.ts'
import type { GaussianSource } from './gaussian-noise.ts'
import { adam, sgd } from './optimizers.ts'

/** raw feature rows (row-major n x dims, the model's schema order) and labels, 1 = attack */
export interface TrainingData {
  x: Float32Array
  y: ArrayLike<number>
}

export interface PrivacyInit {
  clipNorm: number
  noiseMultiplier: number
  delta: number
  /** the noise source; the OS CSPRNG unless given (benchmarks pass a seeded one) */
  noise?: GaussianSource
  /** what this participant already spent on the same records, for the running total */
  history?: readonly SampledGaussianSteps[]
}

export interface LocalTrainingInit {
  /** expected passes over the local records; steps = ceil(epochs * n / batchSize) */
  epochs: number
  /** exact number of steps, overriding `epochs` */
  steps?: number
  /** batch size; under DP the expected one, so the sampling rate is batchSize / n */
  batchSize: number
  optimizer: 'sgd' | 'adam'
  learningRate: number
  /** for 'sgd' */
  momentum: number
  /** batch sampling (and nothing secret) */
  seed: number
  privacy?: PrivacyInit
}

export const DEFAULT_LOCAL_TRAINING_INIT: LocalTrainingInit = {
  epochs: 1,
  batchSize: 128,
  optimizer: 'sgd',
  learningRate: 0.1,
  momentum: 0.9,
  seed: 0,
}

export interface LocalPrivacyReport extends SampledGaussianSteps {
  clipNorm: number
  delta: number
  /** epsilon of this call's steps alone */
  epsilon: number
  /** epsilon of `history` plus this call */
  totalEpsilon: number
  /** share of sampled examples whose gradient was clipped; a tuning signal for C */
  clippedFraction: number
}

export interface LocalTrainingResult {
  model: MlpModel
  /** new weights - starting weights, flat (`flattenWeights` order): what aggregation takes */
  delta: Float32Array
  steps: number
  /** local records */
  examples: number
  /** mean per-example loss over the sampled batches */
  meanLoss: number
  privacy?: LocalPrivacyReport
}

export function trainLocal(
  tf: Tf,
  model: MlpModel,
  data: TrainingData,
  init: Partial<LocalTrainingInit> = {},
): LocalTrainingResult {
  const cfg = { ...DEFAULT_LOCAL_TRAINING_INIT, ...init }
  const dims = model.architecture.inputDim
  const n = data.y.length
  if (data.x.length !== n * dims) {
    throw new DimensionMismatchError(`${data.x.length} values are not ${n} rows of ${dims} features`)
  }
  if (
    n === 0 ||
    !(cfg.batchSize >= 1) ||
    !(cfg.learningRate > 0) ||
    !(cfg.epochs > 0 || (cfg.steps ?? 0) > 0)
  ) {
    throw new InvalidTrainingConfigError(
      'need records, batchSize >= 1, learningRate > 0 and epochs or steps > 0',
    )
  }
  const x = standardize(model.standardizer, data.x)
  const batch = Math.min(cfg.batchSize, n)
  const steps = cfg.steps ?? Math.ceil((cfg.epochs * n) / batch)
  const rand = mulberry32(cfg.seed)
  const weights = model.weights.map((w) => Float32Array.from(w))
  const optimizer =
    cfg.optimizer === 'adam'
      ? adam({ learningRate: cfg.learningRate })
      : sgd({ learningRate: cfg.learningRate, momentum: cfg.momentum })
  const privacy = cfg.privacy
  const sampleRate = batch / n
  const noise = privacy ? (privacy.noise ?? secureGaussian()) : undefined

  let lossSum = 0
  let seen = 0
  let clipped = 0
  // Non-private training walks shuffled epochs; DP-SGD must Poisson-sample, as the accountant assumes.
  let order: Int32Array = new Int32Array(0)
  let cursor = 0
  for (let s = 0; s < steps; s++) {
    let indices: ArrayLike<number>
    if (privacy) {
      indices = poissonSample(n, sampleRate, rand)
    } else {
      if (cursor + batch > order.length) {
        order = shuffledIndices(n, rand)
        cursor = 0
      }
      indices = order.subarray(cursor, cursor + batch)
      cursor += batch
    }
    const b = gatherBatch(x, data.y, dims, indices)
    const params = weightsToTensors(tf, model.architecture, weights)
    try {
      const r = privacy
        ? dpSgdGradient(tf, params, b.x, b.y, {
            clipNorm: privacy.clipNorm,
            noiseMultiplier: privacy.noiseMultiplier,
            expectedBatchSize: sampleRate * n,
            noise: noise!,
          })
        : meanGradient(tf, params, b.x, b.y)
      lossSum += r.lossSum
      seen += r.batchSize
      clipped += r.clipped
      optimizer.step(weights, r.gradient)
    } finally {
      tf.dispose(params)
    }
  }

  const before = getFlatWeights(model)
  const after = flattenWeights(weights)
  if (!after.every(Number.isFinite)) {
    throw new TrainingDivergedError(`weights became non-finite within ${steps} steps`)
  }
  const delta = new Float32Array(after.length)
  for (let i = 0; i < delta.length; i++) delta[i] = after[i] - before[i]
  const result: LocalTrainingResult = {
    model: withFlatWeights(model, after),
    delta,
    steps,
    examples: n,
    meanLoss: seen > 0 ? lossSum / seen : NaN,
  }
  if (privacy) {
    const spent = { sampleRate, noiseMultiplier: privacy.noiseMultiplier, steps }
    result.privacy = {
      ...spent,
      clipNorm: privacy.clipNorm,
      delta: privacy.delta,
      epsilon: dpSgdEpsilon(sampleRate, privacy.noiseMultiplier, steps, privacy.delta).epsilon,
      totalEpsilon: epsilonForHistory([...(privacy.history ?? []), spent], privacy.delta).epsilon,
      clippedFraction: seen > 0 ? clipped / seen : 0,
    }
  }
  return result
}

/** Fisher-Yates */
function shuffledIndices(n: number, rand: () => number): Int32Array {
  const a = Int32Array.from({ length: n }, (_, i) => i)
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1))
    const t = a[i]
    a[i] = a[j]
    a[j] = t
  }
  return a
}
