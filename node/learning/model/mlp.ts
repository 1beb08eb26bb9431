/**
 * A small multilayer perceptron for binary detection: inputs -> hidden ReLU layers -> one sigmoid output (the
 * attack probability). Weights are plain Float32Arrays, [W1, b1, W2, b2, ...] with W row-major [in, out], so
 * aggregation, hashing and transport stay pure functions over plain data; TensorFlow.js only appears in training
 * and batch prediction. Generic over the input dimension: the feature schema says what the inputs mean.
 */
import { gaussian, mulberry32 } from '../../detect/features/prng.ts'
import type { FeatureSchemaRef } from './feature-schema-ref.ts'
import { DimensionMismatchError, InvalidModelError } from './model-errors.ts'
import { identityStandardizer } from './standardizer.ts'
import type { Standardizer } from './standardizer.ts'
import { flattenTensors } from '../codec/weights-codec.ts'

export interface MlpArchitecture {
  kind: 'mlp'
  inputDim: number
  /** widths of the hidden ReLU layers */
  hidden: readonly number[]
}

export interface MlpModel {
  architecture: MlpArchitecture
  schema: FeatureSchemaRef
  /** one name per input, for explanations */
  featureNames: readonly string[]
  standardizer: Standardizer
  /** [W1, b1, W2, b2, ...]; W_l row-major [in_l, out_l] */
  weights: Float32Array[]
}

export const DEFAULT_HIDDEN: readonly number[] = [64, 32]

export interface CreateMlpInit {
  schema: FeatureSchemaRef
  featureNames: readonly string[]
  hidden?: readonly number[]
  standardizer?: Standardizer
  seed?: number
}

/** the (rows, cols) of each weight matrix, the output layer last */
export function layerShapes(arch: MlpArchitecture): Array<[number, number]> {
  const widths = [arch.inputDim, ...arch.hidden, 1]
  return widths.slice(1).map((out, l) => [widths[l], out])
}

/** the length of each entry of `weights`: W1, b1, W2, b2, ... */
export function weightSizes(arch: MlpArchitecture): number[] {
  return layerShapes(arch).flatMap(([inp, out]) => [inp * out, out])
}

export function parameterCount(arch: MlpArchitecture): number {
  return weightSizes(arch).reduce((a, b) => a + b, 0)
}

/**
 * A fresh model. Hidden layers use He initialisation (normal, variance 2 / fan-in, the standard choice for ReLU),
 * the output layer Glorot (variance 2 / (fan-in + fan-out)); biases start at 0. Same seed, same weights, so the
 * nodes of a federation can start from one model without shipping it.
 */
export function createMlp(init: CreateMlpInit): MlpModel {
  const featureNames = [...init.featureNames]
  const architecture: MlpArchitecture = {
    kind: 'mlp',
    inputDim: featureNames.length,
    hidden: [...(init.hidden ?? DEFAULT_HIDDEN)],
  }
  assertValidArchitecture(architecture)
  const rand = mulberry32(init.seed ?? 0)
  const shapes = layerShapes(architecture)
  const weights: Float32Array[] = []
  shapes.forEach(([inp, out], l) => {
    const last = l === shapes.length - 1
    const std = Math.sqrt(last ? 2 / (inp + out) : 2 / inp)
    const w = new Float32Array(inp * out)
    for (let i = 0; i < w.length; i++) w[i] = gaussian(rand) * std
    weights.push(w, new Float32Array(out))
  })
  const model: MlpModel = {
    architecture,
    schema: { ...init.schema },
    featureNames,
    standardizer: init.standardizer ?? identityStandardizer(architecture.inputDim),
    weights,
  }
  assertValidModel(model)
  return model
}

export function assertValidArchitecture(arch: MlpArchitecture): void {
  const widths = [arch.inputDim, ...arch.hidden]
  if (arch.kind !== 'mlp' || !widths.every((w) => Number.isSafeInteger(w) && w > 0)) {
    throw new InvalidModelError(`not an MLP architecture: ${JSON.stringify(arch)}`)
  }
}

export function assertValidModel(model: MlpModel): void {
  const arch = model.architecture
  assertValidArchitecture(arch)
  const sizes = weightSizes(arch)
  if (model.weights.length !== sizes.length || model.weights.some((w, i) => w.length !== sizes[i])) {
    throw new InvalidModelError(`weights do not fit ${JSON.stringify(arch)}`)
  }
  if (
    model.featureNames.length !== arch.inputDim ||
    model.standardizer.mean.length !== arch.inputDim ||
    model.standardizer.std.length !== arch.inputDim
  ) {
    throw new InvalidModelError(`feature names and standardiser must have ${arch.inputDim} entries`)
  }
  for (const w of [...model.weights, model.standardizer.mean, model.standardizer.std]) {
    for (let i = 0; i < w.length; i++) {
      if (!Number.isFinite(w[i])) throw new InvalidModelError('model holds a non-finite number')
    }
  }
  for (let i = 0; i < arch.inputDim; i++) {
    if (!(model.standardizer.std[i] > 0)) throw new InvalidModelError('standardiser std must be > 0')
  }
}

/** all weights as one vector, in `weights` order: what aggregation and transport see */
export const flattenWeights: (weights: readonly Float32Array[]) => Float32Array = flattenTensors

/** the inverse of `flattenWeights` for an architecture; copies */
export function unflattenWeights(arch: MlpArchitecture, flat: ArrayLike<number>): Float32Array[] {
  const sizes = weightSizes(arch)
  const total = sizes.reduce((a, b) => a + b, 0)
  if (flat.length !== total) {
    throw new DimensionMismatchError(`expected ${total} weights, got ${flat.length}`)
  }
  const src = flat instanceof Float32Array ? flat : Float32Array.from(flat)
  const out: Float32Array[] = []
  let o = 0
  for (const n of sizes) {
    out.push(src.slice(o, o + n))
    o += n
  }
  return out
}

export function getFlatWeights(model: MlpModel): Float32Array {
  return flattenWeights(model.weights)
}

/** a new model with the given flat weights; the input model is untouched */
export function withFlatWeights(model: MlpModel, flat: ArrayLike<number>): MlpModel {
  const next = { ...model, weights: unflattenWeights(model.architecture, flat) }
  assertValidModel(next)
  return next
}

/** a new model whose weights are the old plus `delta` (a flat update, as aggregation returns it) */
export function applyDelta(model: MlpModel, delta: ArrayLike<number>, scale = 1): MlpModel {
  const flat = getFlatWeights(model)
  if (delta.length !== flat.length) {
    throw new DimensionMismatchError(`expected a delta of ${flat.length}, got ${delta.length}`)
  }
  for (let i = 0; i < flat.length; i++) flat[i] += scale * delta[i]
  return withFlatWeights(model, flat)
}
