import type { SecurityEvent } from '../ingest/event.ts'
import type { DetectConfig } from './create-engine.ts'
import type { Detector, Finding } from './detector.ts'
import { Ensemble, type Decision } from './ensemble.ts'
import type { StagedFinding } from './staged-findings.ts'

export interface DetectionStats {
  events: number
  findings: number
  decisions: number
  detectors: Record<string, Record<string, number>>
}

/**
 * How an engine was built, for offline replay on worker threads: a worker builds the same engine from `config`
 * and runs one group of its detectors (by index). Detectors in no group (handed in by code) run where they are.
 */
export interface EngineRecipe {
  config: DetectConfig
  groups: readonly (readonly number[])[]
}

/**
 * Events in, decisions out: every detector sees every event, each finding goes to the ensemble, and the
 * ensemble decides. The same engine runs behind live ingest, `POST /api/events` and `shieldwall detect`.
 */
export class DetectionEngine {
  readonly detectors: readonly Detector[]
  readonly ensemble: Ensemble
  readonly recipe: EngineRecipe | undefined
  #events = 0
  #findings = 0
  #decisions = 0
  #onFinding?: (finding: Finding) => void

  constructor(
    detectors: readonly Detector[],
    ensemble: Ensemble,
    onFinding?: (finding: Finding) => void,
    recipe?: EngineRecipe,
  ) {
    this.detectors = detectors
    this.ensemble = ensemble
    this.#onFinding = onFinding
    this.recipe = recipe
  }

  /** Hot path. Returns a decision when this event completes the case against its address. */
  observe(event: SecurityEvent): Decision | undefined {
    this.#events++
    let decision: Decision | undefined
    for (let i = 0; i < this.detectors.length; i++) {
      const finding = this.detectors[i].observe(event)
      if (finding !== undefined) decision = this.consider(finding, event.time) ?? decision
    }
    return decision
  }

  /** Lets window-based detectors close windows as time passes (event time in replay, wall time live). */
  tick(now: number): Decision[] {
    const out: Decision[] = []
    for (const detector of this.detectors) {
      if (detector.tick === undefined) continue
      for (const finding of detector.tick(now)) {
        const d = this.consider(finding, now)
        if (d !== undefined) out.push(d)
      }
    }
    return out
  }

  /** The ensemble half of `observe` and `tick`: one finding, seen at `now`. */
  consider(finding: Finding, now: number): Decision | undefined {
    this.#findings++
    this.#onFinding?.(finding)
    const d = this.ensemble.consider(finding, Math.max(now, finding.last))
    if (d !== undefined) this.#decisions++
    return d
  }

  /**
   * The ensemble half for detectors that ran elsewhere over `events` events (a multi-threaded replay): takes
   * their findings in order and appends the decisions `observe` and `tick` would have returned.
   */
  decideStaged(findings: readonly StagedFinding[], events: number, out: Decision[]): void {
    this.#events += events
    let pending: Decision | undefined
    let pendingSeq = -1
    for (const s of findings) {
      if (pending !== undefined && (s.phase === 1 || s.seq !== pendingSeq)) {
        out.push(pending)
        pending = undefined
      }
      const d = this.consider(s.finding, s.now)
      if (d === undefined) continue
      // `observe` returns the last decision an event brought about
      if (s.phase === 0) {
        pending = d
        pendingSeq = s.seq
      } else out.push(d)
    }
    if (pending !== undefined) out.push(pending)
  }

  stats(): DetectionStats {
    const detectors: Record<string, Record<string, number>> = {}
    for (const d of this.detectors) detectors[d.name] = d.stats?.() ?? {}
    detectors.ensemble = this.ensemble.stats()
    return { events: this.#events, findings: this.#findings, decisions: this.#decisions, detectors }
  }
}
