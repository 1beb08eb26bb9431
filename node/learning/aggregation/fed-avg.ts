import { assertUpdates, totalWeight, type WeightedUpdate } from './weighted-update.ts'

/**
 * FedAvg (McMahan et al. 2017): the weighted mean sum(w_i * delta_i) / sum(w_i). Accumulated in float64 so the
 * result does not depend on the order the updates arrived in beyond float32 rounding of the final value.
 * Not robust: a single update can move the result arbitrarily far.
 */
export function fedAvg(updates: readonly WeightedUpdate[]): Float32Array {
  const length = assertUpdates(updates)
  const total = totalWeight(updates)
  const sum = new Float64Array(length)
  for (const { delta, weight } of updates) {
    if (weight === 0) continue
    for (let j = 0; j < length; j++) sum[j] += weight * delta[j]
  }
  const result = new Float32Array(length)
  for (let j = 0; j < length; j++) result[j] = sum[j] / total
  return result
}
