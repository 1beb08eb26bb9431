import { InsufficientUpdatesError, InvalidAggregationOptionError } from './aggregation-errors.ts'
import { assertUpdates, type WeightedUpdate } from './weighted-update.ts'

/** Trims 20% from each end: tolerates up to 2 attackers in 10 pushing the same way. */
export const DEFAULT_TRIM_FRACTION = 0.2

/**
 * Coordinate-wise trimmed mean (Yin et al. 2018, as Flower's FedTrimmedAvg / scipy's trim_mean): for each parameter
 * drop the floor(trimFraction * n) smallest and as many largest values and average the rest. Unweighted, for the
 * same reason as the median: which values get trimmed must not depend on a weight a sender can inflate.
 */
export function trimmedMean(
  updates: readonly WeightedUpdate[],
  trimFraction: number = DEFAULT_TRIM_FRACTION,
): Float32Array {
  const length = assertUpdates(updates)
  if (!(typeof trimFraction === 'number' && trimFraction >= 0 && trimFraction < 0.5)) {
    throw new InvalidAggregationOptionError(`trim fraction must be in [0, 0.5), got ${trimFraction}`)
  }
  const n = updates.length
  const cut = Math.floor(trimFraction * n)
  const kept = n - 2 * cut
  if (kept < 1) throw new InsufficientUpdatesError(`trimming ${cut} from each end of ${n} leaves nothing`)
  const result = new Float32Array(length)
  const column = new Float64Array(n)
  for (let j = 0; j < length; j++) {
    for (let i = 0; i < n; i++) column[i] = updates[i].delta[j]
    column.sort()
    let sum = 0
    for (let i = cut; i < n - cut; i++) sum += column[i]
    result[j] = sum / kept
  }
  return result
}
