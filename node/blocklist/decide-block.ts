import type { Severity } from '../../protocol/messages/alert.ts'

/** One of this node's own detections of the indicator. */
export interface LocalDetection {
  /** 0..1 */
  confidence: number
  scenario: string
  /** ms since the epoch */
  at: number
}

/** One signed alert about the indicator from another node, with what we currently think of that node. */
export interface PeerReport {
  reporter: string
  /** our trust in the reporter, 0..1 */
  trust: number
  /** the alert's own confidence, 0..1 */
  confidence: number
  scenario: string
  severity: Severity
  /** ms since the epoch (the alert's lastSeen, or when we received it) */
  at: number
}

export interface Evidence {
  local: readonly LocalDetection[]
  reports: readonly PeerReport[]
}

export interface BlockPolicy {
  /** evidence loses half its weight every this many ms */
  halfLifeMs: number
  /** evidence older than this is ignored altogether */
  maxAgeMs: number
  /** local evidence alone blocks at this score */
  localThreshold: number
  /** the combined score a community block needs */
  communityThreshold: number
  /** distinct trusted voices a community block needs (`k`); our own detectors count as one */
  minTrustedReporters: number
  /** reporters with trust at or above this are trusted (`t`) */
  trustedThreshold: number
  /** the most that all untrusted reporters together can add, however many there are */
  untrustedCap: number
  /** a voice agrees only if its decayed weight reaches this: old or faint reports do not count towards k */
  minAgreeingWeight: number
  severityWeights: Record<Severity, number>
}

export const DEFAULT_HALF_LIFE_MS = 6 * 3600_000
export const DEFAULT_MAX_EVIDENCE_AGE_MS = 7 * 24 * 3600_000
export const DEFAULT_LOCAL_THRESHOLD = 0.8
export const DEFAULT_COMMUNITY_THRESHOLD = 0.7
export const DEFAULT_MIN_TRUSTED_REPORTERS = 2
export const DEFAULT_TRUSTED_THRESHOLD = 0.6
export const DEFAULT_UNTRUSTED_CAP = 0.3
export const DEFAULT_MIN_AGREEING_WEIGHT = 0.2
/** A `low` alert claims less than a `critical` one; the weight scales what the claim can add. */
export const SEVERITY_WEIGHTS: Record<Severity, number> = { low: 0.5, medium: 0.75, high: 1, critical: 1 }

export const DEFAULT_BLOCK_POLICY: BlockPolicy = {
  halfLifeMs: DEFAULT_HALF_LIFE_MS,
  maxAgeMs: DEFAULT_MAX_EVIDENCE_AGE_MS,
  localThreshold: DEFAULT_LOCAL_THRESHOLD,
  communityThreshold: DEFAULT_COMMUNITY_THRESHOLD,
  minTrustedReporters: DEFAULT_MIN_TRUSTED_REPORTERS,
  trustedThreshold: DEFAULT_TRUSTED_THRESHOLD,
  untrustedCap: DEFAULT_UNTRUSTED_CAP,
  minAgreeingWeight: DEFAULT_MIN_AGREEING_WEIGHT,
  severityWeights: SEVERITY_WEIGHTS,
}

export interface BlockVerdict {
  block: boolean
  /** which rule blocked: our own evidence alone, or the community's (with ours as one voice) */
  origin?: 'local' | 'community'
  /** everything combined, 0..1 */
  score: number
  localScore: number
  /** the scenario that weighed most */
  scenario: string
  /** plain language: who said what, how much it weighed, what tipped it (or what was missing) */
  reasons: string[]
  /** peer ids that count towards the score, heaviest first */
  reporters: string[]
  /** distinct trusted voices that agree, our detectors included */
  agreeing: number
}

/** Reasons list at most this many reporters one by one; the rest are summarised. */
const MAX_LISTED_REPORTERS = 8

/** 0..1, with garbage (NaN, out of range) clamped rather than trusted: bad input never crashes the node. */
function unit(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0
}

/** Weight left after `age` ms; evidence from the future (clock skew) counts as fresh. */
export function decay(ageMs: number, halfLifeMs: number): number {
  return 0.5 ** (Math.max(0, ageMs) / halfLifeMs)
}

/**
 * Independent pieces of evidence combined as a noisy-OR: 1 - Π(1 - wᵢ). It stays in 0..1, each voice adds
 * less as the score nears 1, and no single voice below 1 can reach 1 — unlike a capped sum, where many weak
 * voices add linearly until the cap.
 */
export function noisyOr(weights: Iterable<number>): number {
  let miss = 1
  for (const w of weights) miss *= 1 - unit(w)
  return 1 - miss
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000
}

function f2(x: number): string {
  return x.toFixed(2)
}

function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 90) return `${s} s ago`
  if (s < 90 * 60) return `${Math.round(s / 60)} min ago`
  if (s < 36 * 3600) return `${Math.round(s / 3600)} h ago`
  return `${Math.round(s / 86400)} d ago`
}

function shortPeer(id: string): string {
  return id.length > 16 ? `${id.slice(0, 8)}…${id.slice(-6)}` : id
}

interface Voice {
  reporter: string
  trust: number
  weight: number
  report: PeerReport
}

/**
 * Whether to block one indicator, from everything we know about it. Pure: same evidence, policy and clock,
 * same verdict, so it can be re-run whenever a reporter's trust changes. The allowlist is not consulted here;
 * the Blocklist checks it and it always wins.
 *
 * - Each piece of evidence weighs confidence × decay(age) (peers: × trust × severity weight).
 * - A local block needs our own detections, combined, to reach `localThreshold`.
 * - A community block needs `minTrustedReporters` distinct agreeing voices with trust ≥ `trustedThreshold`
 *   (our own detectors count as one voice of trust 1) AND a combined score ≥ `communityThreshold`.
 * - Each reporter is one voice however often it repeats itself: its heaviest report counts.
 * - Reporters below the trust threshold never count as agreeing voices, and all of them together add only
 *   as much as the heaviest one of them (at most `untrustedCap`): fifty fresh identities weigh what one does.
 */
export function decideBlock(evidence: Evidence, policy: BlockPolicy, now: number): BlockVerdict {
  const byScenario = new Map<string, number>()
  const addScenario = (scenario: string, w: number) =>
    byScenario.set(scenario, (byScenario.get(scenario) ?? 0) + w)
  const reasons: string[] = []

  // our own detections
  const localWeights: number[] = []
  let strongestLocal: { d: LocalDetection; w: number } | undefined
  for (const d of evidence.local) {
    const age = now - d.at
    if (age > policy.maxAgeMs) continue
    const w = unit(d.confidence) * decay(age, policy.halfLifeMs)
    localWeights.push(w)
    addScenario(d.scenario, w)
    if (strongestLocal === undefined || w > strongestLocal.w) strongestLocal = { d, w }
  }
  const localScore = noisyOr(localWeights)
  if (strongestLocal !== undefined) {
    const { d } = strongestLocal
    const more = localWeights.length > 1 ? ` (${localWeights.length} detections)` : ''
    reasons.push(
      `local detection ${d.scenario}, confidence ${f2(unit(d.confidence))}, ${ago(now - d.at)}${more} → ${f2(localScore)}`,
    )
  }

  // one voice per reporter: its heaviest live report
  const voices = new Map<string, Voice>()
  for (const r of evidence.reports) {
    const age = now - r.at
    if (age > policy.maxAgeMs || typeof r.reporter !== 'string') continue
    const trust = unit(r.trust)
    const severity = policy.severityWeights[r.severity] ?? 0
    const weight = trust * unit(r.confidence) * unit(severity) * decay(age, policy.halfLifeMs)
    const prior = voices.get(r.reporter)
    if (prior === undefined || weight > prior.weight)
      voices.set(r.reporter, { reporter: r.reporter, trust, weight, report: r })
  }
  const trusted: Voice[] = []
  const untrusted: Voice[] = []
  for (const v of voices.values()) (v.trust >= policy.trustedThreshold ? trusted : untrusted).push(v)
  trusted.sort((a, b) => b.weight - a.weight)
  untrusted.sort((a, b) => b.weight - a.weight)

  const listed = trusted.slice(0, MAX_LISTED_REPORTERS)
  for (const v of listed) {
    const r = v.report
    reasons.push(
      `peer ${shortPeer(v.reporter)} (trust ${f2(v.trust)}) reported ${r.scenario} (${r.severity}, confidence ${f2(unit(r.confidence))}) ${ago(now - r.at)} → ${f2(v.weight)}`,
    )
  }
  if (trusted.length > listed.length) {
    const rest = trusted.slice(listed.length)
    reasons.push(`${rest.length} more trusted peers → ${f2(noisyOr(rest.map((v) => v.weight)))} together`)
  }
  for (const v of trusted) addScenario(v.report.scenario, v.weight)

  // the Sybil bound: all untrusted reporters together weigh as much as their heaviest one, capped
  const heaviestUntrusted = untrusted[0]
  const untrustedWeight = Math.min(heaviestUntrusted?.weight ?? 0, unit(policy.untrustedCap))
  if (heaviestUntrusted !== undefined) {
    const r = heaviestUntrusted.report
    const who =
      untrusted.length === 1
        ? `1 peer below trust ${f2(policy.trustedThreshold)}`
        : `${untrusted.length} peers below trust ${f2(policy.trustedThreshold)} count as one:`
    reasons.push(
      `${who} ${shortPeer(heaviestUntrusted.reporter)} (trust ${f2(heaviestUntrusted.trust)}) reported ${r.scenario} (${r.severity}) ${ago(now - r.at)} → ${f2(untrustedWeight)}`,
    )
    addScenario(r.scenario, untrustedWeight)
  }

  const score = noisyOr([localScore, ...trusted.map((v) => v.weight), untrustedWeight])
  const agreeingPeers = trusted.filter((v) => v.weight >= policy.minAgreeingWeight).length
  const localAgrees = localScore >= policy.minAgreeingWeight
  const agreeing = agreeingPeers + (localAgrees ? 1 : 0)

  let block = false
  let origin: BlockVerdict['origin']
  const voicesText = `${agreeing} trusted voice${agreeing === 1 ? '' : 's'}${localAgrees ? ' (ours included)' : ''}`
  if (localWeights.length > 0 && localScore >= policy.localThreshold) {
    block = true
    origin = 'local'
    reasons.push(`blocked: local evidence ${f2(localScore)} ≥ ${f2(policy.localThreshold)}`)
  } else if (agreeing >= policy.minTrustedReporters && score >= policy.communityThreshold) {
    block = true
    origin = 'community'
    reasons.push(
      `blocked: ${voicesText} agree (need ${policy.minTrustedReporters}) and the combined score ${f2(score)} ≥ ${f2(policy.communityThreshold)}`,
    )
  } else if (agreeing < policy.minTrustedReporters) {
    reasons.push(
      `not blocked: ${voicesText} agree${agreeing === 1 ? 's' : ''}, ${policy.minTrustedReporters} needed (score ${f2(score)})`,
    )
  } else {
    reasons.push(`not blocked: combined score ${f2(score)} < ${f2(policy.communityThreshold)}`)
  }

  let scenario = ''
  let best = -1
  for (const [s, w] of byScenario) {
    if (w > best) {
      best = w
      scenario = s
    }
  }
  const reporters = trusted.filter((v) => v.weight > 0).map((v) => v.reporter)
  if (heaviestUntrusted !== undefined && untrustedWeight > 0) reporters.push(heaviestUntrusted.reporter)
  return {
    block,
    ...(origin !== undefined ? { origin } : {}),
    score: round(score),
    localScore: round(localScore),
    scenario,
    reasons,
    reporters,
    agreeing,
  }
}
