import { InsufficientUpdatesError, InvalidAggregationOptionError } from './aggregation-errors.ts'
import { fedAvg } from './fed-avg.ts'
import { assertUpdates, type WeightedUpdate } from './weighted-update.ts'

export interface KrumScore {
  /** index into the updates */
  index: number
  /** sum of squared distances to its n - f - 2 nearest other updates */
  score: number
}

/** The largest f Krum can tolerate with n updates (it needs n > 2f + 2), or -1 when n < 3. */
export function maxKrumByzantine(n: number): number {
  return Math.floor((n - 3) / 2)
}

function assertKrumParameters(n: number, f: number): void {
  if (!(Number.isSafeInteger(f) && f >= 0)) {
    throw new InvalidAggregationOptionError(`f must be a non-negative integer, got ${f}`)
  }
  if (n <= 2 * f + 2) {
    throw new InsufficientUpdatesError(`Krum needs n > 2f + 2 updates: n = ${n}, f = ${f}`)
  }
}

/**
 * Krum scores (Blanchard et al. 2017): for each update, the sum of squared L2 distances to its n - f - 2 closest
 * other updates. Sorted best (lowest) first; ties keep arrival order.
 */
export function krumScores(updates: readonly WeightedUpdate[], f: number): KrumScore[] {
  const length = assertUpdates(updates)
  const n = updates.length
  assertKrumParameters(n, f)
  const distances = Array.from({ length: n }, () => new Float64Array(n))
  for (let a = 0; a < n; a++) {
    for (let b = a + 1; b < n; b++) {
      const x = updates[a].delta
      const y = updates[b].delta
      let d = 0
      for (let j = 0; j < length; j++) {
        const diff = x[j] - y[j]
        d += diff * diff
      }
      distances[a][b] = d
      distances[b][a] = d
    }
  }
  const neighbours = n - f - 2
  const scores = distances.map((row, index) => {
    const others = Array.from(row).filter((_, b) => b !== index)
    others.sort((p, q) => p - q)
    let score = 0
    for (let k = 0; k < neighbours; k++) score += others[k]
    return { index, score }
  })
  return scores.sort((p, q) => p.score - q.score || p.index - q.index)
}

/**
 * Krum (m = 1) returns the single update with the lowest score; multi-Krum (m > 1, El Mhamdi et al. 2018) the
 * weighted mean (FedAvg) of the m best, as Flower's FedKrum does. Requires n > 2f + 2 and 1 <= m <= n - f: with
 * fewer updates the guarantee does not hold, so it throws InsufficientUpdatesError rather than quietly averaging;
 * a caller that wants a fallback catches it and picks another rule (see `aggregate`).
 */
export function krum(updates: readonly WeightedUpdate[], f: number, m: number = 1): Float32Array {
  const scores = krumScores(updates, f)
  const n = updates.length
  if (!(Number.isSafeInteger(m) && m >= 1 && m <= n - f)) {
    throw new InvalidAggregationOptionError(`m must be an integer in [1, n - f] = [1, ${n - f}], got ${m}`)
  }
  if (m === 1) return Float32Array.from(updates[scores[0].index].delta)
  const selected = scores.slice(0, m).map((s) => updates[s.index])
  // all selected weights zero would make FedAvg fail; fall back to equal weights among the selected
  return selected.some((u) => u.weight > 0)
    ? fedAvg(selected)
    : fedAvg(selected.map((u) => ({ delta: u.delta, weight: 1 })))
}
