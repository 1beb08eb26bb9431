import { assertUpdates, totalWeight, type WeightedUpdate } from './weighted-update.ts'

export interface CoordinateMedianOptions {
  /**
   * Use the weighted median instead of the plain one. Off by default: the rule's breakdown point (Yin et al. 2018)
   * counts updates, and a weight that is partly self-reported (example count) would let one sender buy it.
   */
  weighted?: boolean
}

/**
 * Coordinate-wise median (Yin et al. 2018, as Flower's FedMedian): each parameter is the median of that parameter
 * over the updates, so fewer than half the updates cannot drag it outside the honest range. With an even count the
 * two middle values are averaged (numpy's median). Weights are ignored unless `weighted` is set.
 */
export function coordinateMedian(
  updates: readonly WeightedUpdate[],
  options: CoordinateMedianOptions = {},
): Float32Array {
  const length = assertUpdates(updates)
  const n = updates.length
  const result = new Float32Array(length)
  const column = new Float64Array(n)
  if (!options.weighted) {
    const mid = n >> 1
    for (let j = 0; j < length; j++) {
      for (let i = 0; i < n; i++) column[i] = updates[i].delta[j]
      column.sort()
      result[j] = n % 2 === 1 ? column[mid] : (column[mid - 1] + column[mid]) / 2
    }
    return result
  }
  const total = totalWeight(updates)
  const order = Array.from({ length: n }, (_, i) => i)
  for (let j = 0; j < length; j++) {
    for (let i = 0; i < n; i++) column[i] = updates[i].delta[j]
    order.sort((a, b) => column[a] - column[b])
    result[j] = weightedMedianOfSorted(order, column, updates, total)
  }
  return result
}

/**
 * The smallest value whose cumulative weight reaches half the total; when the cumulative weight lands exactly on
 * half, the mean of it and the next value with positive weight, so equal weights give the plain median.
 */
function weightedMedianOfSorted(
  order: readonly number[],
  values: Float64Array,
  updates: readonly WeightedUpdate[],
  total: number,
): number {
  const half = total / 2
  let cumulative = 0
  for (let k = 0; k < order.length; k++) {
    const w = updates[order[k]].weight
    if (w === 0) continue
    cumulative += w
    if (cumulative > half * (1 + 1e-12)) return values[order[k]]
    if (cumulative >= half * (1 - 1e-12)) {
      for (let next = k + 1; next < order.length; next++) {
        if (updates[order[next]].weight > 0) return (values[order[k]] + values[order[next]]) / 2
      }
      return values[order[k]]
    }
  }
  return values[order[order.length - 1]]
}
