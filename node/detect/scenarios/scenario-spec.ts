import type { SecurityEvent } from '../../ingest/event.ts'
import type { Severity } from '../../../protocol/messages/alert.ts'

/**
 * One attack pattern as data: which events count, how fast the bucket fills and leaks, and what an overflow
 * means. The catalog (`ssh-scenarios.ts`, `http-scenarios.ts`) is a list of these; parameters can be
 * overridden from config by name.
 */
export interface ScenarioSpec {
  name: string
  service: 'ssh' | 'http'
  description: string
  /** does this event pour into the bucket? `flags` are the request's `REQUEST_FLAGS` (0 for non-HTTP) */
  filter: (event: SecurityEvent, flags: number) => boolean
  /** empties the bucket (e.g. a successful login ends a password-guessing run) */
  resetOn?: (event: SecurityEvent) => boolean
  /** count each value once per fill (distinct paths, users, user agents) */
  distinct?: (event: SecurityEvent) => string | undefined
  capacity: number
  leakMs: number
  /** overflow only if no two of the last `capacity + 1` events are closer than this (paced brute force) */
  minGapMs?: number
  /** after an overflow, how long the same bucket stays quiet */
  quietMs: number
  severity: Severity
  /** how sure an overflow makes us, 0..1 */
  confidence: number
  /** first ban for this scenario; repeat offenders get longer ones */
  banSeconds: number
  /** what the counted events are, for explanations: `failed ssh logins`, `404s on distinct paths` */
  unit: string
  /**
   * `REQUEST_FLAGS` of which the request must have at least one for `filter` to pass (implied by `filter`, never
   * widening it): a bit test that spares ordinary requests the call, for scenarios about one kind of probe.
   */
  requires?: number
}

export interface ScenarioParams {
  capacity?: number
  leakSeconds?: number
  banSeconds?: number
  confidence?: number
  enabled?: boolean
}

export function withParams(spec: ScenarioSpec, params: ScenarioParams | undefined): ScenarioSpec {
  if (params === undefined) return spec
  return {
    ...spec,
    capacity: params.capacity ?? spec.capacity,
    leakMs: params.leakSeconds !== undefined ? params.leakSeconds * 1000 : spec.leakMs,
    banSeconds: params.banSeconds ?? spec.banSeconds,
    confidence: params.confidence ?? spec.confidence,
  }
}

/**
 * `spec` with every field present, in one order. The catalog's specs are literals of a dozen shapes (with or
 * without `distinct`, `resetOn`, `minGapMs`, overridden or not), and the detector reads their fields for every
 * event: through one hidden class those reads are monomorphic instead of megamorphic lookups.
 */
export function uniformSpec(spec: ScenarioSpec): Required<ScenarioSpec> {
  return {
    name: spec.name,
    service: spec.service,
    description: spec.description,
    filter: spec.filter,
    resetOn: spec.resetOn as Required<ScenarioSpec>['resetOn'],
    distinct: spec.distinct as Required<ScenarioSpec>['distinct'],
    capacity: spec.capacity,
    leakMs: spec.leakMs,
    minGapMs: spec.minGapMs as number,
    quietMs: spec.quietMs,
    severity: spec.severity,
    confidence: spec.confidence,
    banSeconds: spec.banSeconds,
    unit: spec.unit,
    requires: spec.requires ?? 0,
  }
}
