import { InvalidAggregationOptionError } from './aggregation-errors.ts'
import { assertUpdates, l2Norm, type WeightedUpdate } from './weighted-update.ts'

/**
 * Adaptive bound = median update norm times this factor. 1 would clip half of the honest updates every round; 2
 * leaves typical honest updates alone and still caps a boosted (scaled-up) update at twice a typical one.
 */
export const DEFAULT_MEDIAN_NORM_FACTOR = 2

/** A copy of `delta` scaled down so its L2 norm is at most maxNorm (Sun et al. 2019 norm bounding). Never scales up. */
export function boundNorm(delta: Float32Array, maxNorm: number): Float32Array {
  if (!(typeof maxNorm === 'number' && maxNorm >= 0 && !Number.isNaN(maxNorm))) {
    throw new InvalidAggregationOptionError(`max norm must be a number >= 0, got ${maxNorm}`)
  }
  const norm = l2Norm(delta)
  const out = Float32Array.from(delta)
  if (norm <= maxNorm) return out
  const scale = maxNorm / norm
  for (let i = 0; i < out.length; i++) out[i] *= scale
  return out
}

export interface NormBounded {
  updates: WeightedUpdate[]
  /** the bound that was applied */
  maxNorm: number
  /** how many updates were scaled down */
  clipped: number
}

export interface NormBoundOptions {
  /** factor on the median norm when the bound is 'median'; DEFAULT_MEDIAN_NORM_FACTOR unless given */
  medianFactor?: number
}

/**
 * Applies boundNorm to every update, with either a fixed bound or an adaptive one: the median of this round's norms
 * times `medianFactor`. The median adapts as honest updates shrink during training, and fewer than half the
 * senders cannot raise it.
 */
export function normBounded(
  updates: readonly WeightedUpdate[],
  bound: number | 'median',
  options: NormBoundOptions = {},
): NormBounded {
  assertUpdates(updates)
  const norms = updates.map((u) => l2Norm(u.delta))
  let maxNorm: number
  if (bound === 'median') {
    const factor = options.medianFactor ?? DEFAULT_MEDIAN_NORM_FACTOR
    if (!(typeof factor === 'number' && factor > 0 && Number.isFinite(factor))) {
      throw new InvalidAggregationOptionError(`median factor must be a finite number > 0, got ${factor}`)
    }
    const sorted = [...norms].sort((a, b) => a - b)
    const mid = sorted.length >> 1
    const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    maxNorm = median * factor
  } else {
    maxNorm = bound
  }
  let clipped = 0
  const bounded = updates.map((u, i) => {
    if (norms[i] > maxNorm) clipped++
    return { delta: boundNorm(u.delta, maxNorm), weight: u.weight }
  })
  return { updates: bounded, maxNorm, clipped }
}
