import type { MiddlewareHandler } from 'hono'
import { apiError } from './errors.ts'

export interface RateLimitInit {
  /** sustained writes per second per token */
  perSecond: number
  /** writes allowed in a burst */
  burst: number
  /** tokens tracked; beyond it the least recently used bucket is forgotten */
  maxKeys: number
}

export const WRITE_RATE_LIMIT: RateLimitInit = { perSecond: 50, burst: 200, maxKeys: 10_000 }

interface Bucket {
  tokens: number
  at: number
}

/** Refills `bucket` to `now` and takes one token; false when it is empty. A pure step of a token bucket. */
export function takeToken(
  bucket: Bucket,
  now: number,
  init: Pick<RateLimitInit, 'perSecond' | 'burst'>,
): boolean {
  bucket.tokens = Math.min(init.burst, bucket.tokens + ((now - bucket.at) / 1000) * init.perSecond)
  bucket.at = now
  if (bucket.tokens < 1) return false
  bucket.tokens -= 1
  return true
}

/**
 * Token-bucket limit on write routes (anything but GET/HEAD), per API token: reads are cheap and bouncers
 * poll, but a runaway script must not flood the store or the network with manual blocks and alerts.
 */
export function writeRateLimit(
  init: RateLimitInit = WRITE_RATE_LIMIT,
  clock: () => number = Date.now,
): MiddlewareHandler<{ Variables: { tokenName: string } }> {
  const buckets = new Map<string, Bucket>()
  return async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next()
    const key = c.get('tokenName') ?? 'anonymous'
    const now = clock()
    let bucket = buckets.get(key)
    if (bucket === undefined) {
      if (buckets.size >= init.maxKeys) buckets.delete(buckets.keys().next().value as string)
      bucket = { tokens: init.burst, at: now }
    } else buckets.delete(key)
    buckets.set(key, bucket) // most recently used last
    if (!takeToken(bucket, now, init)) {
      c.header('Retry-After', String(Math.ceil((1 - bucket.tokens) / init.perSecond)))
      throw apiError(
        429,
        `too many write requests: at most ${init.perSecond}/s (burst ${init.burst}) per token`,
      )
    }
    return next()
  }
}
