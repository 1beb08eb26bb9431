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

export type Spend = 'ok' | 'over' | 'flood'

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
  const refilled = Math.min(allowance.burst, tokens + (Math.max(0, elapsedMs) / 1000) * allowance.perSecond)
  const after = refilled - cost
  if (refilled >= cost) return { tokens: after, verdict: 'ok' }
  const floor = -FLOOD_MARGIN * allowance.burst
  // at the floor the charge is refused without deepening the debt
  if (after < floor) return { tokens: refilled, verdict: 'flood' }
  return { tokens: after, verdict: 'over' }
}

export interface PeerUsage {
  /** units granted (for the verification budget: signatures verified for this peer) */
  spent: number
  /** units refused as `over` or `flood` */
  refused: number
  flooded: number
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

  constructor(allowance: (peer: string) => Allowance, maxPeers = MAX_TRACKED_PEERS) {
    this.#allowance = allowance
    this.#maxPeers = maxPeers
  }

  /** Charges `peer` `cost` units at `now`; `ok` means go ahead. */
  take(peer: string, now: number, cost = 1): Spend {
    const allowance = this.#allowance(peer)
    let bucket = this.#buckets.get(peer)
    if (bucket === undefined) {
      bucket = { tokens: allowance.burst, at: now, spent: 0, refused: 0, flooded: 0 }
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
    if (step.verdict === 'ok') bucket.spent += cost
    else {
      bucket.refused += cost
      if (step.verdict === 'flood') bucket.flooded += cost
    }
    return step.verdict
  }

  /** What `take` would answer, without charging anything (for charges made only once a message proved genuine). */
  peek(peer: string, now: number, cost = 1): Spend {
    const allowance = this.#allowance(peer)
    const bucket = this.#buckets.get(peer)
    if (bucket === undefined) return spend(allowance.burst, 0, allowance, cost).verdict
    return spend(bucket.tokens, now - bucket.at, allowance, cost).verdict
  }

  /** What `peer` has been granted and refused since it was first (or last forgotten and) seen. */
  usage(peer: string): PeerUsage {
    const b = this.#buckets.get(peer)
    return { spent: b?.spent ?? 0, refused: b?.refused ?? 0, flooded: b?.flooded ?? 0 }
  }

  get peers(): number {
    return this.#buckets.size
  }
}
