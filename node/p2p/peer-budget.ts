/**
 * What a peer may make this node spend, scaled by what it has earned. Identities are free, so an unknown one
 * gets a small allowance and a trusted one a large one; the allowance is a token bucket (a burst, refilled at a
 * steady rate) so an honest peer's occasional burst passes and a sustained flood does not.
 *
 * Spending past the allowance is answered in two steps. A modest excess is `over`: the message is dropped
 * before any expensive work and nobody is punished (an honest peer can be briefly over after a quiet spell on
 * the network ends). An excess of more than `FLOOD_MARGIN` bursts is `flood`: the caller rejects, which costs
 * the peer gossipsub score (P4) until it is graylisted. The debt a peer may run up is itself capped, so a
 * flooder that stops recovers in bounded time.
 *
 * Per-peer allowances add up across identities: two hundred fresh ones (up to p2p.maxConnections) would each
 * get a stranger's. So, by the rule the blocklist weighs reporters with (decideBlock: all voices below the
 * trusted threshold together weigh what their heaviest one does, capped), every peer below the trusted
 * threshold also draws on one shared pool, a small multiple of one stranger's allowance; trusted peers are not
 * charged to it, so a crowd of fresh identities can never starve a trusted member.
 */

export interface Allowance {
  /** tokens added per second */
  perSecond: number
  /** the most a peer may hold, and what a new peer starts with */
  burst: number
}

/** Signature verifications per forwarding peer: what an identity with no history (trust 0) may cost us. */
export const VERIFY_ALLOWANCE_UNKNOWN: Allowance = { perSecond: 2, burst: 20 }
/** ...and what a fully trusted one may (trust 1); trust in between interpolates linearly. */
export const VERIFY_ALLOWANCE_TRUSTED: Allowance = { perSecond: 200, burst: 2000 }
/**
 * Messages judged (decoded and checked) per forwarding peer. Ten times the verifications: judging without the
 * signature costs tens of microseconds, a verification over a millisecond.
 */
export const JUDGE_ALLOWANCE_UNKNOWN: Allowance = { perSecond: 20, burst: 200 }
export const JUDGE_ALLOWANCE_TRUSTED: Allowance = { perSecond: 2000, burst: 20_000 }
/**
 * Alerts stored from catch-up per sender. A catch-up page is a backlog, not a live rate: an unknown sender's
 * day of alerts (a few hundred) fits, a made-up sender's hundred thousand does not.
 */
export const SYNC_ALLOWANCE_UNKNOWN: Allowance = { perSecond: 0.05, burst: 500 }
export const SYNC_ALLOWANCE_TRUSTED: Allowance = { perSecond: 2, burst: 20_000 }
/**
 * The shared pool of all peers below the trusted threshold, in strangers' (trust 0) allowances: together they
 * may cost what this many strangers do, however many identities they are. Ten strangers' verifications are
 * 20 a second (about 3% of a core at 1.4 ms each), far more than the alerts an honest network without trusted
 * members produces, far less than 200 identities' 400 a second.
 */
export const STRANGER_POOL_MULTIPLE = 10
/**
 * Peers trusted at least this much are not charged to the pool: the blocklist's trusted threshold
 * (blocklist.trustedThreshold), which a node normally passes in.
 */
export const POOL_TRUSTED_THRESHOLD = 0.6
/** A peer whose debt reaches this many bursts is flooding; its debt stops growing there. */
export const FLOOD_MARGIN = 1
/** Peers tracked at most; the least recently active are forgotten first (they start again full). */
export const MAX_TRACKED_PEERS = 10_000

/** The allowance for a peer with trust `trust` in [0, 1] (anything else counts as 0). */
export function allowanceFor(trust: number, unknown: Allowance, trusted: Allowance): Allowance {
  const t = Number.isFinite(trust) ? Math.min(1, Math.max(0, trust)) : 0
  return {
    perSecond: unknown.perSecond + t * (trusted.perSecond - unknown.perSecond),
    burst: unknown.burst + t * (trusted.burst - unknown.burst),
  }
}

/** The pool's allowance: `multiple` strangers' worth of rate and burst. */
export function poolAllowance(stranger: Allowance, multiple = STRANGER_POOL_MULTIPLE): Allowance {
  return { perSecond: stranger.perSecond * multiple, burst: stranger.burst * multiple }
}

/**
 * `ok`: go ahead. `over`, `flood`: the peer is past its own allowance (see above). `pool`: the peer is within
 * its own allowance but the shared pool of untrusted peers is spent; the message is only dropped, since the
 * crowd emptied the pool, not this peer alone.
 */
export type Spend = 'ok' | 'over' | 'flood' | 'pool'

/** `tokens` after `elapsedMs` of refill at the allowance's rate, never above its burst (a stepped-back clock adds none). */
function refill(tokens: number, elapsedMs: number, allowance: Allowance): number {
  return Math.min(allowance.burst, tokens + (Math.max(0, elapsedMs) / 1000) * allowance.perSecond)
}

/**
 * One step of the bucket, pure: `tokens` refilled for `elapsedMs` then charged `cost`. Tokens go negative while
 * a peer is over (it must wait that debt off), never below `-FLOOD_MARGIN x burst`.
 */
export function spend(
  tokens: number,
  elapsedMs: number,
  allowance: Allowance,
  cost = 1,
): { tokens: number; verdict: Spend } {
  const refilled = refill(tokens, elapsedMs, allowance)
  const after = refilled - cost
  if (refilled >= cost) return { tokens: after, verdict: 'ok' }
  const floor = -FLOOD_MARGIN * allowance.burst
  // at the floor the charge is refused without deepening the debt
  if (after < floor) return { tokens: refilled, verdict: 'flood' }
  return { tokens: after, verdict: 'over' }
}

/**
 * One step of the shared pool, pure: `tokens` refilled for `elapsedMs`, then `cost` drawn if it is there.
 * Unlike a peer's bucket the pool never goes into debt: a refusal costs it nothing, so a crowd that is being
 * refused does not keep honest strangers out any longer than the pool's own rate. Over any span of `T` ms
 * the pool grants at most `burst + perSecond x T / 1000`.
 */
export function draw(
  tokens: number,
  elapsedMs: number,
  allowance: Allowance,
  cost = 1,
): { tokens: number; granted: boolean } {
  const refilled = refill(tokens, elapsedMs, allowance)
  if (refilled >= cost) return { tokens: refilled - cost, granted: true }
  return { tokens: refilled, granted: false }
}

/** The shared pool a `PeerBudget` charges its untrusted peers to, besides their own buckets. */
export interface SharedPool {
  /** what all members together may spend */
  allowance: Allowance
  /** whether `peer` draws on the pool: its trust is below the trusted threshold */
  member: (peer: string) => boolean
}

/** The pool of every peer whose `trustOf` is below `trustedThreshold`, `multiple` strangers' worth. */
export function strangerPool(
  stranger: Allowance,
  trustOf: (peer: string) => number,
  trustedThreshold = POOL_TRUSTED_THRESHOLD,
  multiple = STRANGER_POOL_MULTIPLE,
): SharedPool {
  return {
    allowance: poolAllowance(stranger, multiple),
    // NaN or garbage trust is a stranger's, as in allowanceFor
    member: (peer) => !(trustOf(peer) >= trustedThreshold),
  }
}

export interface PeerUsage {
  /** units granted (for the verification budget: signatures verified for this peer) */
  spent: number
  /** units refused as `over` or `flood` */
  refused: number
  flooded: number
  /** of `refused`, units refused only because the shared pool was spent */
  pooled: number
}

interface Bucket extends PeerUsage {
  tokens: number
  at: number
}

/** The stateful side: one bucket per peer id, allowances looked up from trust on every spend. */
export class PeerBudget {
  readonly #allowance: (peer: string) => Allowance
  readonly #maxPeers: number
  readonly #buckets = new Map<string, Bucket>()
  readonly #pool?: SharedPool
  /** starts full; `at` is undefined until the first draw */
  readonly #poolBucket: { tokens: number; at?: number; granted: number; refused: number } = {
    tokens: 0,
    granted: 0,
    refused: 0,
  }

  constructor(allowance: (peer: string) => Allowance, maxPeers = MAX_TRACKED_PEERS, pool?: SharedPool) {
    this.#allowance = allowance
    this.#maxPeers = maxPeers
    this.#pool = pool
    if (pool !== undefined) this.#poolBucket.tokens = pool.allowance.burst
  }

  /** Charges `peer` `cost` units at `now`; `ok` means go ahead. */
  take(peer: string, now: number, cost = 1): Spend {
    const allowance = this.#allowance(peer)
    let bucket = this.#buckets.get(peer)
    if (bucket === undefined) {
      bucket = { tokens: allowance.burst, at: now, spent: 0, refused: 0, flooded: 0, pooled: 0 }
      if (this.#buckets.size >= this.#maxPeers) {
        const oldest = this.#buckets.keys().next().value
        if (oldest !== undefined) this.#buckets.delete(oldest)
      }
    } else this.#buckets.delete(peer) // re-inserted below: Map order is least recently active first
    this.#buckets.set(peer, bucket)
    const step = spend(bucket.tokens, now - bucket.at, allowance, cost)
    bucket.tokens = step.tokens
    // a clock stepped back must not refill the bucket a second time when it catches up
    bucket.at = Math.max(bucket.at, now)
    // The peer's own bucket is charged whatever the pool says: it did send this, and one that keeps sending
    // past its own allowance while the pool is spent is flooding all the same.
    const verdict = step.verdict === 'ok' && !this.#drawPool(peer, now, cost) ? 'pool' : step.verdict
    if (verdict === 'ok') bucket.spent += cost
    else {
      bucket.refused += cost
      if (verdict === 'flood') bucket.flooded += cost
      if (verdict === 'pool') bucket.pooled += cost
    }
    return verdict
  }

  /** Whether the shared pool grants `peer` `cost` (always, for a trusted peer or without a pool). */
  #drawPool(peer: string, now: number, cost: number): boolean {
    if (this.#pool === undefined || !this.#pool.member(peer)) return true
    const pool = this.#poolBucket
    const step = draw(pool.tokens, now - (pool.at ?? now), this.#pool.allowance, cost)
    pool.tokens = step.tokens
    // a clock stepped back must not refill the pool a second time when it catches up
    pool.at = Math.max(pool.at ?? now, now)
    if (step.granted) pool.granted += cost
    else pool.refused += cost
    return step.granted
  }

  /** What `take` would answer, without charging anything (for charges made only once a message proved genuine). */
  peek(peer: string, now: number, cost = 1): Spend {
    const allowance = this.#allowance(peer)
    const bucket = this.#buckets.get(peer)
    const own =
      bucket === undefined
        ? spend(allowance.burst, 0, allowance, cost).verdict
        : spend(bucket.tokens, now - bucket.at, allowance, cost).verdict
    if (own !== 'ok' || this.#pool === undefined || !this.#pool.member(peer)) return own
    const pool = this.#poolBucket
    return draw(pool.tokens, now - (pool.at ?? now), this.#pool.allowance, cost).granted ? 'ok' : 'pool'
  }

  /** What `peer` has been granted and refused since it was first (or last forgotten and) seen. */
  usage(peer: string): PeerUsage {
    const b = this.#buckets.get(peer)
    return {
      spent: b?.spent ?? 0,
      refused: b?.refused ?? 0,
      flooded: b?.flooded ?? 0,
      pooled: b?.pooled ?? 0,
    }
  }

  /** What the shared pool has granted and refused in all (zeros without a pool). */
  get pool(): { granted: number; refused: number } {
    return { granted: this.#poolBucket.granted, refused: this.#poolBucket.refused }
  }

  get peers(): number {
    return this.#buckets.size
  }
}

/**
 * The budget a gossip intake keeps per forwarding peer: allowances interpolated by `trustOf` between `unknown`
 * and `trusted`, and every peer below `trustedThreshold` also drawing on the stranger pool. The alert, summary
 * and model intakes each keep one for judging and one for verifying.
 */
export function trustBudget(
  unknown: Allowance,
  trusted: Allowance,
  trustOf: (peer: string) => number,
  trustedThreshold?: number,
): PeerBudget {
  return new PeerBudget(
    (peer) => allowanceFor(trustOf(peer), unknown, trusted),
    undefined,
    strangerPool(unknown, trustOf, trustedThreshold),
  )
}
