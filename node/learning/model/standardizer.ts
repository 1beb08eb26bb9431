/**
 * Per-feature standardisation z = (x - mean) / std, stored with the model so every node scores raw feature
 * vectors the same way. Fitted from sufficient statistics (count, sum, sum of squares) so participants can pool
 * theirs without sharing rows; see `mergeFeatureMoments`.
 */
import { DimensionMismatchError } from './model-errors.ts'

export interface Standardizer {
  mean: Float32Array
  std: Float32Array
}

export interface FeatureMoments {
  count: number
  sum: Float64Array
  sumSquares: Float64Array
}

/** Features with (near) constant value would divide by ~0; they are left centred but unscaled. */
export const MIN_STD = 1e-6

export function identityStandardizer(dims: number): Standardizer {
  return { mean: new Float32Array(dims), std: new Float32Array(dims).fill(1) }
}

/** moments of n rows of a row-major n x dims matrix */
export function featureMoments(x: Float32Array, dims: number): FeatureMoments {
  if (dims <= 0 || x.length % dims !== 0) {
    throw new DimensionMismatchError(`${x.length} values are not rows of ${dims} features`)
  }
  const sum = new Float64Array(dims)
  const sumSquares = new Float64Array(dims)
  for (let i = 0; i < x.length; i += dims) {
    for (let j = 0; j < dims; j++) {
      const v = x[i + j]
      sum[j] += v
      sumSquares[j] += v * v
    }
  }
  return { count: x.length / dims, sum, sumSquares }
}

export function mergeFeatureMoments(parts: readonly FeatureMoments[]): FeatureMoments {
  if (parts.length === 0) throw new DimensionMismatchError('nothing to merge')
  const dims = parts[0].sum.length
  const sum = new Float64Array(dims)
  const sumSquares = new Float64Array(dims)
  let count = 0
  for (const p of parts) {
    if (p.sum.length !== dims) throw new DimensionMismatchError('moments of different dimensions')
    count += p.count
    for (let j = 0; j < dims; j++) {
      sum[j] += p.sum[j]
      sumSquares[j] += p.sumSquares[j]
    }
  }
  return { count, sum, sumSquares }
}

export function standardizerFromMoments(m: FeatureMoments): Standardizer {
  const dims = m.sum.length
  const mean = new Float32Array(dims)
  const std = new Float32Array(dims)
  for (let j = 0; j < dims; j++) {
    const mu = m.count > 0 ? m.sum[j] / m.count : 0
    const variance = m.count > 0 ? Math.max(0, m.sumSquares[j] / m.count - mu * mu) : 1
    mean[j] = mu
    std[j] = Math.sqrt(variance) < MIN_STD ? 1 : Math.sqrt(variance)
  }
  return { mean, std }
}

export function fitStandardizer(x: Float32Array, dims: number): Standardizer {
  return standardizerFromMoments(featureMoments(x, dims))
}

/** a standardised copy of a row-major matrix (or of one vector) */
export function standardize(s: Standardizer, x: ArrayLike<number>): Float32Array {
  const dims = s.mean.length
  if (x.length % dims !== 0) {
    throw new DimensionMismatchError(`${x.length} values are not rows of ${dims} features`)
  }
  const out = new Float32Array(x.length)
  for (let i = 0; i < x.length; i++) {
    const j = i % dims
    out[i] = (x[i] - s.mean[j]) / s.std[j]
  }
  return out
}
