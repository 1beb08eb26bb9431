/**
 * A leaky bucket as CrowdSec defines it: every matching event pours one unit in, the bucket leaks one unit
 * every `leakMs`, and it overflows when it holds more than `capacity`. Continuous leaking (rather than ticks)
 * makes the result independent of when we look, so live and replayed logs decide alike.
 */
export interface BucketState {
  level: number
  /** time of the last pour, ms */
  last: number
  /** first event of the current fill, ms */
  first: number
  /** events poured since the bucket was last empty */
  events: number
  /** no new overflow before this time (CrowdSec's blackhole): one attack, one decision */
  quietUntil: number
  /** values already counted, for `distinct` scenarios */
  distinct: Set<string> | undefined
  /** recent pour times, for scenarios with a pacing condition */
  times: number[] | undefined
}

export function newBucket(): BucketState {
  return { level: 0, last: 0, first: 0, events: 0, quietUntil: 0, distinct: undefined, times: undefined }
}

/** The level after leaking from `bucket.last` to `now`; an emptied bucket forgets its fill. */
export function leak(bucket: BucketState, now: number, leakMs: number): void {
  if (bucket.level === 0) return
  const drained = bucket.level - Math.max(0, now - bucket.last) / leakMs
  if (drained <= 0) reset(bucket)
  else bucket.level = drained
}

export function reset(bucket: BucketState): void {
  bucket.level = 0
  bucket.events = 0
  if (bucket.distinct !== undefined && bucket.distinct.size > 0) bucket.distinct.clear()
  if (bucket.times !== undefined && bucket.times.length > 0) bucket.times.length = 0
}
