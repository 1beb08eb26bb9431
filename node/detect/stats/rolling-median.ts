/**
 * Median and MAD (median absolute deviation) of the last `capacity` values, recomputed every `refreshEvery`
 * pushes rather than per push: two quickselects over 2,048 numbers cost about 25 us, which amortises to some
 * 50 ns per value at the default cadence (a population's median does not move in 512 windows). The median and MAD ignore the tails that a plain mean and
 * standard deviation would chase, so a flood in the sample barely moves the baseline it is judged against.
 */
export class RollingMedian {
  readonly capacity: number
  readonly refreshEvery: number
  readonly #ring: Float64Array
  readonly #scratch: Float64Array
  #count = 0
  #next = 0
  #sincePublish = 0
  median = 0
  /** raw MAD; multiply by 1.4826 for a standard-deviation estimate under normality */
  mad = 0
  constructor(capacity = 2048, refreshEvery = 512) {
    this.capacity = capacity
    this.refreshEvery = refreshEvery
    this.#ring = new Float64Array(capacity)
    this.#scratch = new Float64Array(capacity)
  }

  /** values held (at most `capacity`) */
  get size(): number {
    return this.#count
  }

  /** Adds a value; returns true when the median and MAD were recomputed. */
  push(value: number): boolean {
    this.#ring[this.#next] = value
    this.#next = (this.#next + 1) % this.capacity
    if (this.#count < this.capacity) this.#count++
    // early on, refresh often so the first verdicts do not rest on a handful of values
    if (++this.#sincePublish < Math.min(this.refreshEvery, Math.max(8, this.#count >> 2))) return false
    this.refresh()
    return true
  }

  refresh(): void {
    const n = this.#count
    this.#sincePublish = 0
    if (n === 0) return
    const s = this.#scratch
    s.set(this.#ring.subarray(0, n))
    const median = select(s, n, n >> 1)
    for (let i = 0; i < n; i++) s[i] = Math.abs(s[i] - median)
    this.median = median
    this.mad = select(s, n, n >> 1)
  }
}

/** k-th smallest of a[0..n) by quickselect (Hoare partition, middle pivot); reorders a */
export function select(a: Float64Array, n: number, k: number): number {
  let lo = 0
  let hi = n - 1
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1]
    let i = lo
    let j = hi
    while (i <= j) {
      while (a[i] < pivot) i++
      while (a[j] > pivot) j--
      if (i <= j) {
        const t = a[i]
        a[i++] = a[j]
        a[j--] = t
      }
    }
    if (k <= j) hi = j
    else if (k >= i) lo = i
    else return a[k]
  }
  return a[k]
}
