import { detach, detachShared } from './detach-string.ts'

/**
 * Leaky buckets as CrowdSec defines them: every matching event pours one unit in, the bucket leaks one unit
 * every `leakMs`, and it overflows when it holds more than `capacity`. Continuous leaking (rather than ticks)
 * makes the result independent of when we look, so live and replayed logs decide alike.
 *
 * `LeakyBuckets` holds every bucket of one service: per tracked address a row of bucket ids (one per scenario,
 * a bucket made on first use), per bucket its numbers side by side in one Float64Array. A million events a
 * second on tens of thousands of addresses is bound by memory latency, and flat typed arrays cost an event two
 * or three cache misses where an object per bucket, its boxed numbers and an array per address cost twice that,
 * besides giving the garbage collector nothing to trace.
 */

const LEVEL = 0
/** time of the last pour, ms */
const LAST = 1
/** first event of the current fill, ms */
const FIRST = 2
/** events poured since the bucket was last empty */
const EVENTS = 3
/** no new overflow before this time (CrowdSec's blackhole): one attack, one decision */
const QUIET_UNTIL = 4
/** values counted in this fill, for `distinct` scenarios; SET_MODE once they are kept in a Set */
const DISTINCT = 5
/** pour times kept, for scenarios with a pacing condition */
const TIMES = 6
const FIELDS = 7
const SET_MODE = -1

/** past this many remembered values a bucket switches from a linear scan to a Set */
export const DISTINCT_SCAN = 16

/**
 * Values already counted in a fill, for `distinct` scenarios. CrowdSec's uniq filter keeps them for the
 * bucket's life, which here ends when it empties or overflows. Most buckets hold one value (a client's user
 * agent) and are emptied on nearly every pour, so the first value sits in a flat array beside the numbers, the
 * next ones in a short array scanned linearly, and past `DISTINCT_SCAN` they move to a Set. Values past the
 * count are kept: a client's next fill usually starts with the same value, and the stored copy is reused.
 */
class MoreValues {
  more: string[] = []
  set: Set<string> | undefined = undefined
}

export class LeakyBuckets {
  /** buckets per address: the service's scenarios */
  readonly width: number
  /** row r, scenario i: bucket id + 1, or 0 for none yet */
  #rows: Int32Array
  #freeRows: number[] = []
  #nextRow = 0
  #values: Float64Array
  /** per bucket: its first distinct value, then the others, then its recent pour times */
  #firstValue: (string | undefined)[] = []
  #moreValues: (MoreValues | undefined)[] = []
  #times: (number[] | undefined)[] = []
  #freeBuckets: number[] = []
  #nextBucket = 0

  constructor(width: number, initialRows = 1024) {
    this.width = width
    this.#rows = new Int32Array(initialRows * width)
    this.#values = new Float64Array(initialRows * FIELDS)
  }

  /** A row for a newly tracked address. */
  addRow(): number {
    const free = this.#freeRows.pop()
    if (free !== undefined) return free
    const row = this.#nextRow++
    if ((row + 1) * this.width > this.#rows.length) {
      const grown = new Int32Array(this.#rows.length * 2)
      grown.set(this.#rows)
      this.#rows = grown
    }
    return row
  }

  /** Forgets an address's buckets (it was evicted). */
  freeRow(row: number): void {
    const rows = this.#rows
    const base = row * this.width
    for (let i = 0; i < this.width; i++) {
      const b = rows[base + i] - 1
      if (b === -1) continue
      rows[base + i] = 0
      this.#firstValue[b] = undefined
      this.#moreValues[b] = undefined
      this.#times[b] = undefined
      this.#freeBuckets.push(b)
    }
    this.#freeRows.push(row)
  }

  /** The bucket of scenario `i` of `row`, or -1. */
  bucket(row: number, i: number): number {
    return this.#rows[row * this.width + i] - 1
  }

  /** A new, empty bucket for scenario `i` of `row`. */
  addBucket(row: number, i: number): number {
    let b = this.#freeBuckets.pop()
    if (b === undefined) {
      b = this.#nextBucket++
      if ((b + 1) * FIELDS > this.#values.length) {
        const grown = new Float64Array(this.#values.length * 2)
        grown.set(this.#values)
        this.#values = grown
      }
      this.#firstValue.push(undefined)
      this.#moreValues.push(undefined)
      this.#times.push(undefined)
    } else {
      this.#values.fill(0, b * FIELDS, (b + 1) * FIELDS)
    }
    this.#rows[row * this.width + i] = b + 1
    return b
  }

  level(b: number): number {
    return this.#values[b * FIELDS + LEVEL]
  }
  events(b: number): number {
    return this.#values[b * FIELDS + EVENTS]
  }
  first(b: number): number {
    return this.#values[b * FIELDS + FIRST]
  }
  last(b: number): number {
    return this.#values[b * FIELDS + LAST]
  }
  quietUntil(b: number): number {
    return this.#values[b * FIELDS + QUIET_UNTIL]
  }
  setQuietUntil(b: number, t: number): void {
    this.#values[b * FIELDS + QUIET_UNTIL] = t
  }

  /** Leaks from the last pour to `now`; an emptied bucket forgets its fill. */
  leak(b: number, now: number, leakMs: number): void {
    const v = this.#values
    const at = b * FIELDS
    const level = v[at + LEVEL]
    if (level === 0) return
    const drained = level - Math.max(0, now - v[at + LAST]) / leakMs
    if (drained <= 0) this.reset(b)
    else v[at + LEVEL] = drained
  }

  reset(b: number): void {
    const v = this.#values
    const at = b * FIELDS
    v[at + LEVEL] = 0
    v[at + EVENTS] = 0
    const distinct = v[at + DISTINCT]
    if (distinct !== 0) {
      v[at + DISTINCT] = 0
      if (distinct === SET_MODE) (this.#moreValues[b] as MoreValues).set = undefined
    }
    if (v[at + TIMES] !== 0) {
      v[at + TIMES] = 0
      ;(this.#times[b] as number[]).length = 0
    }
  }

  /** Pours `n` events at time `t`. Log lines can be slightly out of order: the fill keeps its true span. */
  pour(b: number, t: number, n: number): void {
    const v = this.#values
    const at = b * FIELDS
    if (v[at + LEVEL] === 0) v[at + FIRST] = v[at + LAST] = t
    else if (t < v[at + FIRST]) v[at + FIRST] = t
    v[at + LEVEL] += n
    v[at + EVENTS] += n
    if (t > v[at + LAST]) v[at + LAST] = t
  }

  /** Remembers the time of a pour, keeping the last `keep`; returns them oldest first. */
  pourTimes(b: number, t: number, keep: number): number[] {
    const times = (this.#times[b] ??= [])
    times.push(t)
    if (times.length > keep) times.shift()
    this.#values[b * FIELDS + TIMES] = times.length
    return times
  }

  /**
   * True when `value` has not been counted in this fill, and remembers it while fewer than `maxDistinct` values
   * are remembered (past that a value is counted but not remembered, so memory stays bounded). Stored values
   * are detached from the log text they were sliced from.
   */
  firstSighting(b: number, value: string, maxDistinct: number): boolean {
    const at = b * FIELDS + DISTINCT
    const n = this.#values[at]
    if (n === 0) {
      if (maxDistinct > 0) {
        const kept = this.#firstValue[b]
        if (kept !== value) this.#firstValue[b] = detachShared(value)
        this.#values[at] = 1
      }
      return true
    }
    if (n === SET_MODE) {
      const set = (this.#moreValues[b] as MoreValues).set as Set<string>
      if (set.has(value)) return false
      if (set.size < maxDistinct) set.add(detach(value))
      return true
    }
    if (this.#firstValue[b] === value) return false
    const extra = (this.#moreValues[b] ??= new MoreValues())
    const more = extra.more
    for (let i = 0; i < n - 1; i++) if (more[i] === value) return false
    if (n >= maxDistinct) return true
    if (n < DISTINCT_SCAN) {
      if (n - 1 === more.length) more.push(detachShared(value))
      else if (more[n - 1] !== value) more[n - 1] = detachShared(value)
      this.#values[at] = n + 1
    } else {
      const set = new Set(more.slice(0, n - 1))
      set.add(this.#firstValue[b] as string)
      set.add(detach(value))
      extra.set = set
      this.#values[at] = SET_MODE
    }
    return true
  }
}
