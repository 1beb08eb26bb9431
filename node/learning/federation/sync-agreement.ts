/**
 * Which model "the federation" holds, from the answers (model sync) or announces (fork healing) of peers. Anyone
 * can make identities for free, so counting them decides nothing: each voice weighs its trust (the reputation
 * book's opinion of the peer), and, as for blocks (`decideBlock`'s `untrustedCap`), all voices below the trusted
 * threshold that back one model together weigh what the heaviest of them does, capped. A model is followed only
 * when its support reaches `minSupport` (by default one trusted peer) and outweighs every other model together.
 * Pure: the same voices and policy always give the same verdict.
 */

export interface AgreementPolicy {
  /** voices with trust at or above this are trusted */
  trustedThreshold: number
  /** all untrusted voices for one model together weigh at most this (and at most their heaviest one) */
  untrustedCap: number
  /** the support a model needs before this node follows it */
  minSupport: number
}

export const DEFAULT_SYNC_TRUSTED_THRESHOLD = 0.6
export const DEFAULT_SYNC_UNTRUSTED_CAP = 0.3
/** one trusted peer: fresh identities, however many, never reach it (they weigh one newcomer, ~0.04) */
export const DEFAULT_SYNC_MIN_SUPPORT = 0.6

export const DEFAULT_AGREEMENT_POLICY: AgreementPolicy = {
  trustedThreshold: DEFAULT_SYNC_TRUSTED_THRESHOLD,
  untrustedCap: DEFAULT_SYNC_UNTRUSTED_CAP,
  minSupport: DEFAULT_SYNC_MIN_SUPPORT,
}

export interface Vote<T> {
  peerId: string
  /** the peer's trust, 0..1 */
  trust: number
  /** the model hash the peer names */
  modelHash: string
  round: number
  value: T
}

export interface Candidate<T> {
  modelHash: string
  /** the round the most trusted voice for this model claimed */
  round: number
  support: number
  trustedVoices: number
  untrustedVoices: number
  peers: string[]
  value: T
}

export interface Agreement<T> {
  /** every model named, most supported first (ties: later round, then lower hash) */
  ranked: Candidate<T>[]
  totalSupport: number
  /** the model this node may follow, if any */
  agreed?: Candidate<T>
  reason: string
}

const unit = (v: number) => (Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : 0)

/** Weighs votes per model; one vote per peer (its first). */
export function weighVotes<T>(votes: readonly Vote<T>[], policy: AgreementPolicy): Agreement<T> {
  const seen = new Set<string>()
  const groups = new Map<string, { trusted: Vote<T>[]; untrusted: Vote<T>[]; lead: Vote<T> }>()
  for (const v of votes) {
    if (seen.has(v.peerId)) continue
    seen.add(v.peerId)
    const trust = unit(v.trust)
    let g = groups.get(v.modelHash)
    if (g === undefined) {
      g = { trusted: [], untrusted: [], lead: v }
      groups.set(v.modelHash, g)
    }
    ;(trust >= policy.trustedThreshold ? g.trusted : g.untrusted).push({ ...v, trust })
    if (trust > unit(g.lead.trust)) g.lead = v
  }
  const ranked: Candidate<T>[] = []
  for (const [modelHash, g] of groups) {
    const heaviestUntrusted = g.untrusted.reduce((m, v) => Math.max(m, v.trust), 0)
    const support =
      g.trusted.reduce((sum, v) => sum + v.trust, 0) + Math.min(heaviestUntrusted, unit(policy.untrustedCap))
    ranked.push({
      modelHash,
      round: g.lead.round,
      support,
      trustedVoices: g.trusted.length,
      untrustedVoices: g.untrusted.length,
      peers: [...g.trusted, ...g.untrusted].map((v) => v.peerId),
      value: g.lead.value,
    })
  }
  ranked.sort(
    (a, b) =>
      b.support - a.support ||
      b.round - a.round ||
      (a.modelHash < b.modelHash ? -1 : a.modelHash > b.modelHash ? 1 : 0),
  )
  const totalSupport = ranked.reduce((sum, c) => sum + c.support, 0)
  const best = ranked[0]
  if (best === undefined) return { ranked, totalSupport, reason: 'no peer named a model' }
  const f = (v: number) => v.toFixed(2)
  const who = `${best.trustedVoices} trusted and ${best.untrustedVoices} untrusted peers`
  if (best.support < policy.minSupport) {
    return {
      ranked,
      totalSupport,
      reason: `model ${best.modelHash.slice(0, 12)} has support ${f(best.support)} from ${who}; following a model needs ${f(policy.minSupport)} (one peer trusted at least ${f(policy.trustedThreshold)})`,
    }
  }
  if (best.support * 2 <= totalSupport) {
    return {
      ranked,
      totalSupport,
      reason: `model ${best.modelHash.slice(0, 12)} has support ${f(best.support)} of ${f(totalSupport)}: not more than the other models together`,
    }
  }
  return {
    ranked,
    totalSupport,
    agreed: best,
    reason: `model ${best.modelHash.slice(0, 12)} has support ${f(best.support)} of ${f(totalSupport)} from ${who}`,
  }
}
