import type { Severity } from '../../protocol/messages/alert.ts'
import { banDuration, DEFAULT_BAN_GROWTH, type BanGrowth } from './ban-duration.ts'
import type { Finding } from './detector.ts'
import { GenerationalCache } from './generational-cache.ts'

/**
 * How much each detector's word counts. Rules (scenarios) are precise and decide alone; the statistical and
 * learned detectors are noisier and mostly corroborate: alone they stay under the decision threshold unless
 * they are very sure, together with a rule or each other they push over it.
 */
export const DETECTOR_WEIGHTS: Record<string, number> = {
  scenario: 1,
  'rate-zscore': 0.75,
  cusum: 0.6,
  iforest: 0.6,
  model: 0.7,
}
export const DECISION_THRESHOLD = 0.7
/** findings older than this no longer add up */
export const FINDING_MEMORY_MS = 10 * 60 * 1000
export const DEFAULT_BAN_SECONDS = 4 * 3600

export interface Decision {
  ip: string
  /** the scenario of the strongest finding */
  scenario: string
  severity: Severity
  /** combined confidence, 0..1 */
  confidence: number
  /** every finding's explanation, strongest first */
  reasons: string[]
  detectors: string[]
  events: number
  first: number
  last: number
  /** 1 for a first offence; bans grow with it */
  offence: number
  durationSeconds: number
  decidedAt: number
  expiresAt: number
}

export interface EnsembleInit {
  weights: Record<string, number>
  threshold: number
  memoryMs: number
  growth: BanGrowth
  maxTrackedIps: number
  /** base ban and severity per scenario (from the scenario catalog) */
  scenarioBan: (scenario: string) => { banSeconds: number; severity: Severity }
}

/**
 * Noisy-OR of independent evidence: 1 - prod(1 - w_d * s_d), with each detector's strongest recent finding.
 * Pure, so the same findings always give the same confidence.
 */
export function combineFindings(findings: readonly Finding[], weights: Record<string, number>): number {
  const best = new Map<string, number>()
  for (const f of findings) {
    const w = (weights[f.detector] ?? 0.5) * Math.min(1, Math.max(0, f.score))
    if (w > (best.get(f.detector) ?? 0)) best.set(f.detector, w)
  }
  let miss = 1
  for (const w of best.values()) miss *= 1 - w
  return 1 - miss
}

interface IpEvidence {
  findings: Finding[]
  activeUntil: number
  offences: number
}

/** Turns findings into decisions: one active decision per address, longer bans for repeat offenders. */
export class Ensemble {
  readonly #init: EnsembleInit
  readonly #ips: GenerationalCache<string, IpEvidence>
  #decisions = 0

  constructor(init: Partial<EnsembleInit> = {}) {
    this.#init = {
      weights: DETECTOR_WEIGHTS,
      threshold: DECISION_THRESHOLD,
      memoryMs: FINDING_MEMORY_MS,
      growth: DEFAULT_BAN_GROWTH,
      maxTrackedIps: 200_000,
      scenarioBan: () => ({ banSeconds: DEFAULT_BAN_SECONDS, severity: 'medium' }),
      ...init,
    }
    this.#ips = new GenerationalCache(this.#init.maxTrackedIps)
  }

  /** Seeds the offence count of an address (from the decision store after a restart). */
  setOffences(ip: string, offences: number): void {
    const e = this.#evidence(ip)
    e.offences = Math.max(e.offences, offences)
  }

  consider(finding: Finding, now: number = finding.last): Decision | undefined {
    const e = this.#evidence(finding.ip)
    if (now < e.activeUntil) return undefined
    e.findings = e.findings.filter((f) => now - f.last <= this.#init.memoryMs)
    e.findings.push(finding)
    const confidence = combineFindings(e.findings, this.#init.weights)
    if (confidence < this.#init.threshold) return undefined

    const ranked = [...e.findings].sort(
      (a, b) =>
        (this.#init.weights[b.detector] ?? 0.5) * b.score - (this.#init.weights[a.detector] ?? 0.5) * a.score,
    )
    const lead = ranked[0]
    const { banSeconds, severity } = this.#init.scenarioBan(lead.scenario)
    e.offences++
    const durationSeconds = banDuration(banSeconds, e.offences, this.#init.growth)
    e.activeUntil = now + durationSeconds * 1000
    e.findings = []
    this.#decisions++
    return {
      ip: finding.ip,
      scenario: lead.scenario,
      severity,
      confidence: Math.round(confidence * 1000) / 1000,
      reasons: ranked.flatMap((f) => f.reasons),
      detectors: [...new Set(ranked.map((f) => f.detector))],
      events: ranked.reduce((n, f) => Math.max(n, f.events), 0),
      first: Math.min(...ranked.map((f) => f.first)),
      last: Math.max(...ranked.map((f) => f.last)),
      offence: e.offences,
      durationSeconds,
      decidedAt: now,
      expiresAt: now + durationSeconds * 1000,
    }
  }

  #evidence(ip: string): IpEvidence {
    let e = this.#ips.get(ip)
    if (e === undefined) {
      e = { findings: [], activeUntil: 0, offences: 0 }
      this.#ips.set(ip, e)
    }
    return e
  }

  stats(): Record<string, number> {
    return { decisions: this.#decisions, trackedIps: this.#ips.size, evictedIps: this.#ips.evictions }
  }
}
