import type { SecurityEvent } from '../ingest/event.ts'
import type { Detector, Finding } from './detector.ts'
import { Ensemble, type Decision } from './ensemble.ts'

export interface DetectionStats {
  events: number
  findings: number
  decisions: number
  detectors: Record<string, Record<string, number>>
}

/**
 * Events in, decisions out: every detector sees every event, each finding goes to the ensemble, and the
 * ensemble decides. The same engine runs behind live ingest, `POST /api/events` and `shieldwall detect`.
 */
export class DetectionEngine {
  readonly detectors: readonly Detector[]
  readonly ensemble: Ensemble
  #events = 0
  #findings = 0
  #decisions = 0
  #onFinding?: (finding: Finding) => void

  constructor(detectors: readonly Detector[], ensemble: Ensemble, onFinding?: (finding: Finding) => void) {
    this.detectors = detectors
    this.ensemble = ensemble
    this.#onFinding = onFinding
  }

  /** Hot path. Returns a decision when this event completes the case against its address. */
  observe(event: SecurityEvent): Decision | undefined {
    this.#events++
    let decision: Decision | undefined
    for (let i = 0; i < this.detectors.length; i++) {
      const finding = this.detectors[i].observe(event)
      if (finding !== undefined) decision = this.#consider(finding, event.time) ?? decision
    }
    return decision
  }

  /** Lets window-based detectors close windows as time passes (event time in replay, wall time live). */
  tick(now: number): Decision[] {
    const out: Decision[] = []
    for (const detector of this.detectors) {
      if (detector.tick === undefined) continue
      for (const finding of detector.tick(now)) {
        const d = this.#consider(finding, now)
        if (d !== undefined) out.push(d)
      }
    }
    return out
  }

  #consider(finding: Finding, now: number): Decision | undefined {
    this.#findings++
    this.#onFinding?.(finding)
    const d = this.ensemble.consider(finding, Math.max(now, finding.last))
    if (d !== undefined) this.#decisions++
    return d
  }

  stats(): DetectionStats {
    const detectors: Record<string, Record<string, number>> = {}
    for (const d of this.detectors) detectors[d.name] = d.stats?.() ?? {}
    detectors.ensemble = this.ensemble.stats()
    return { events: this.#events, findings: this.#findings, decisions: this.#decisions, detectors }
  }
}
