import type { SecurityEvent } from '../ingest/event.ts'
import type { Detector, Finding } from './detector.ts'
import type { ReplaySink } from './replay-scan.ts'

/**
 * A finding with its place in the order `DetectionEngine` would have considered it: event `seq`, then the
 * observe phase (0) before the tick after that event (1), then detector index. Detectors never see the
 * ensemble's decisions, so detectors can run apart (on other threads) and their findings, merged in this order,
 * give the ensemble exactly the sequence a single engine gives it.
 */
export interface StagedFinding {
  seq: number
  phase: 0 | 1
  detector: number
  /** the time the engine would have passed to the ensemble: the event's time, or the tick's */
  now: number
  finding: Finding
}

/** Runs some of an engine's detectors (by index) over a scan and keeps their findings, in order. */
export class DetectorStage implements ReplaySink {
  readonly findings: StagedFinding[] = []
  readonly #detectors: Detector[]
  readonly #indices: number[]

  constructor(detectors: readonly Detector[], indices: readonly number[]) {
    this.#indices = [...indices].sort((a, b) => a - b)
    this.#detectors = this.#indices.map((i) => detectors[i])
  }

  event(event: SecurityEvent, seq: number): void {
    const detectors = this.#detectors
    for (let i = 0; i < detectors.length; i++) {
      const finding = detectors[i].observe(event)
      if (finding !== undefined)
        this.findings.push({ seq, phase: 0, detector: this.#indices[i], now: event.time, finding })
    }
  }

  tick(now: number, seq: number): void {
    const detectors = this.#detectors
    for (let i = 0; i < detectors.length; i++) {
      const d = detectors[i]
      if (d.tick === undefined) continue
      for (const finding of d.tick(now))
        this.findings.push({ seq, phase: 1, detector: this.#indices[i], now, finding })
    }
  }
}

function before(a: StagedFinding, b: StagedFinding): boolean {
  if (a.seq !== b.seq) return a.seq < b.seq
  if (a.phase !== b.phase) return a.phase < b.phase
  return a.detector < b.detector
}

/** Merges finding lists that are each in order and come from disjoint sets of detectors (stable). */
export function mergeStaged(a: readonly StagedFinding[], b: readonly StagedFinding[]): StagedFinding[] {
  const out: StagedFinding[] = []
  let i = 0
  let j = 0
  while (i < a.length && j < b.length) out.push(before(b[j], a[i]) ? b[j++] : a[i++])
  while (i < a.length) out.push(a[i++])
  while (j < b.length) out.push(b[j++])
  return out
}
