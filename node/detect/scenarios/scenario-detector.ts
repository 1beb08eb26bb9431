import type { SecurityEvent } from '../../ingest/event.ts'
import type { Detector, Finding } from '../detector.ts'
import { HTTP_SCENARIOS } from './http-scenarios.ts'
import { detach } from './detach-string.ts'
import { GenerationalIpIndex } from './ip-cache.ts'
import { LeakyBuckets } from './leaky-bucket.ts'
import { classifyRequest } from './request-patterns.ts'
import { uniformSpec, withParams, type ScenarioParams, type ScenarioSpec } from './scenario-spec.ts'
import { SSH_SCENARIOS } from './ssh-scenarios.ts'

export const ALL_SCENARIOS: readonly ScenarioSpec[] = [...SSH_SCENARIOS, ...HTTP_SCENARIOS]

export interface ScenarioDetectorInit {
  /** per-scenario overrides by name; `enabled: false` drops a scenario */
  scenarios: Record<string, ScenarioParams>
  /** most addresses tracked at once; the least recently seen is forgotten first */
  maxTrackedIps: number
  /** cap on remembered distinct values per bucket (a scanner sending a million paths must not cost memory) */
  maxDistinct: number
  /**
   * Called once per filling of a bucket when it reaches `sightingFraction` of its capacity without overflowing:
   * a sighting, too weak to ban on, that the community can add up (an attack spread thin over many nodes).
   * Unset in replay, where it costs nothing.
   */
  onSighting?: (sighting: Finding) => void
  sightingFraction: number
}

/** the confidence a sighting claims: below any ban, but three trusted nodes' sightings add up to one */
export const SIGHTING_CONFIDENCE = 0.4
/** after a sighting of an address, its other scenarios stay quiet this long */
export const SIGHTING_QUIET_MS = 60_000

const DEFAULTS: ScenarioDetectorInit = {
  scenarios: {},
  maxTrackedIps: 200_000,
  maxDistinct: 256,
  sightingFraction: 0.5,
}

/** One service's scenarios, its addresses, and their buckets (a row of one bucket per scenario each). */
class ServiceState {
  readonly specs: Required<ScenarioSpec>[]
  readonly buckets: LeakyBuckets
  readonly ips: GenerationalIpIndex

  constructor(specs: ScenarioSpec[], maxTrackedIps: number) {
    this.specs = specs.map(uniformSpec)
    const buckets = new LeakyBuckets(specs.length)
    this.buckets = buckets
    this.ips = new GenerationalIpIndex(maxTrackedIps, (row) => buckets.freeRow(row))
  }
}

/**
 * Runs every enabled scenario as a leaky bucket per (address, scenario). One event costs a map lookup, one
 * classification of the request line, and a filter call per scenario of its service.
 */
export class ScenarioDetector implements Detector {
  readonly name = 'scenario'
  readonly #ssh: ServiceState
  readonly #http: ServiceState
  readonly #init: ScenarioDetectorInit
  #overflows = 0
  #sightings = 0
  readonly #sightedIps = new Map<string, number>()
  /** bucket -> the `first` of the filling already reported, so one filling is reported once */
  readonly #sighted = new Map<ServiceState, Map<number, number>>()

  constructor(init: Partial<ScenarioDetectorInit> = {}) {
    this.#init = { ...DEFAULTS, ...init }
    const pick = (specs: ScenarioSpec[]) =>
      specs
        .filter((s) => this.#init.scenarios[s.name]?.enabled !== false)
        .map((s) => withParams(s, this.#init.scenarios[s.name]))
    this.#ssh = new ServiceState(pick(SSH_SCENARIOS), this.#init.maxTrackedIps)
    this.#http = new ServiceState(pick(HTTP_SCENARIOS), this.#init.maxTrackedIps)
  }

  get scenarios(): ScenarioSpec[] {
    return [...this.#ssh.specs, ...this.#http.specs]
  }

  observe(event: SecurityEvent): Finding | undefined {
    let service: ServiceState
    let flags = 0
    if (event.service === 'ssh') service = this.#ssh
    else if (event.service === 'http') {
      service = this.#http
      if (event.kind === 'http_request' || event.path !== undefined)
        flags = classifyRequest(event.path, event.userAgent)
    } else {
      return undefined
    }
    const { specs, buckets } = service
    let row = service.ips.get(event.ip)
    let best: Finding | undefined
    for (let i = 0; i < specs.length; i++) {
      const spec = specs[i]
      if (spec.resetOn !== undefined && spec.resetOn(event)) {
        if (row !== -1) {
          const b = buckets.bucket(row, i)
          if (b !== -1) buckets.reset(b)
        }
        continue
      }
      if (spec.requires !== 0 && (flags & spec.requires) === 0) continue
      if (!spec.filter(event, flags)) continue
      if (row === -1) {
        row = buckets.addRow()
        service.ips.set(event.ip, row)
      }
      let b = buckets.bucket(row, i)
      if (b === -1) b = buckets.addBucket(row, i)
      const finding = this.#pour(spec, buckets, b, event)
      if (finding === undefined && this.#init.onSighting !== undefined) this.#sight(service, spec, b, event)
      if (finding !== undefined && (best === undefined || finding.score > best.score)) {
        if (best !== undefined) finding.reasons.push(...best.reasons)
        best = finding
      }
    }
    return best
  }

  #pour(spec: ScenarioSpec, buckets: LeakyBuckets, b: number, event: SecurityEvent): Finding | undefined {
    const t = event.time
    buckets.leak(b, t, spec.leakMs)
    if (spec.distinct !== undefined) {
      const value = spec.distinct(event)
      if (value === undefined || !buckets.firstSighting(b, value, this.#init.maxDistinct)) return undefined
    }
    buckets.pour(b, t, event.count ?? 1)
    const times = spec.minGapMs !== undefined ? buckets.pourTimes(b, t, spec.capacity + 1) : undefined
    if (buckets.level(b) <= spec.capacity || t < buckets.quietUntil(b)) return undefined
    if (times !== undefined && !paced(times, spec.minGapMs as number)) return undefined
    const events = buckets.events(b)
    const first = buckets.first(b)
    const last = buckets.last(b)
    const finding: Finding = {
      detector: this.name,
      scenario: spec.name,
      // findings outlive the log text the event was read from
      ip: detach(event.ip),
      score: spec.confidence,
      events,
      first,
      last,
      reasons: [explain(spec, events, first, last)],
    }
    this.#overflows++
    buckets.setQuietUntil(b, t + spec.quietMs)
    buckets.reset(b)
    return finding
  }

  #sight(service: ServiceState, spec: ScenarioSpec, b: number, event: SecurityEvent): void {
    // the bucket's own level first: it rules out almost every event before any lookup by address
    const { buckets } = service
    const level = buckets.level(b)
    if (level < spec.capacity * this.#init.sightingFraction || level > spec.capacity) return
    if (event.time < buckets.quietUntil(b)) return
    // one address half-way through several scenarios (ssh-bf, its timing twin, ...) is one sighting a minute
    const previous = this.#sightedIps.get(event.ip)
    if (previous !== undefined && event.time - previous < SIGHTING_QUIET_MS) return
    let sighted = this.#sighted.get(service)
    if (sighted === undefined) this.#sighted.set(service, (sighted = new Map()))
    const first = buckets.first(b)
    if (sighted.get(b) === first) return
    // bounded by the number of live buckets, which the IP cap bounds
    if (sighted.size > this.#init.maxTrackedIps * 2) sighted.clear()
    sighted.set(b, first)
    if (this.#sightedIps.size >= this.#init.maxTrackedIps) this.#sightedIps.clear()
    this.#sightedIps.set(detach(event.ip), event.time)
    this.#sightings++
    const events = buckets.events(b)
    const last = buckets.last(b)
    ;(this.#init.onSighting as (f: Finding) => void)({
      detector: this.name,
      scenario: spec.name,
      ip: detach(event.ip),
      score: SIGHTING_CONFIDENCE,
      events,
      first,
      last,
      reasons: [
        `sighting: ${spec.name}: ${events} ${spec.unit} in ${Math.max(0, Math.round((last - first) / 1000))} s ` +
          `(half of the ${spec.capacity} that ban here; shared so other nodes can add theirs)`,
      ],
    })
  }

  stats(): Record<string, number> {
    return {
      sightings: this.#sightings,
      trackedIps: this.#ssh.ips.size + this.#http.ips.size,
      evictedIps: this.#ssh.ips.evictions + this.#http.ips.evictions,
      overflows: this.#overflows,
    }
  }
}

function paced(times: number[], minGapMs: number): boolean {
  for (let i = 1; i < times.length; i++) if (times[i] - times[i - 1] < minGapMs) return false
  return true
}

function explain(spec: ScenarioSpec, events: number, first: number, last: number): string {
  const span = Math.max(0, Math.round((last - first) / 1000))
  const leakText = spec.leakMs >= 1000 ? `${spec.leakMs / 1000} s` : `${spec.leakMs} ms`
  return (
    `${spec.name}: ${events} ${spec.unit} in ${span} s ` +
    `(more than ${spec.capacity}, one forgiven every ${leakText})` +
    (spec.minGapMs !== undefined ? `, each at least ${spec.minGapMs / 1000} s apart` : '')
  )
}
