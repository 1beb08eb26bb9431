import type { SecurityEvent } from '../ingest/event.ts'

/**
 * What one detector concludes about one address. Detectors never ban anything themselves: the ensemble
 * (`ensemble.ts`) weighs their findings into a decision, so every decision can list the findings behind it.
 */
export interface Finding {
  /** which detector, e.g. `scenario`, `rate-zscore`, `cusum`, `iforest` */
  detector: string
  /** the attack it names, as alerts and decisions carry it, e.g. `ssh-bf`, `http-flood`, `anomaly` */
  scenario: string
  ip: string
  /** this detector's confidence that `ip` is attacking, 0..1 */
  score: number
  /** how many events the finding rests on, and the time span they cover (ms since the epoch) */
  events: number
  first: number
  last: number
  /** plain-language explanation, e.g. `6 failed ssh logins in 42 s (threshold 5 in 60 s)` */
  reasons: string[]
}

export interface Detector {
  readonly name: string
  /** Hot path: called once per event, in time order. Returns a finding when this event tips the balance. */
  observe(event: SecurityEvent): Finding | undefined
  /** Called as time advances (event time in replay, wall time when live) for window-based detectors. */
  tick?(now: number): Finding[]
  /** Counters for status and metrics: tracked keys, evictions, ... */
  stats?(): Record<string, number>
}
