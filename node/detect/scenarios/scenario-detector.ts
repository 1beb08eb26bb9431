import type { SecurityEvent } from '../../ingest/event.ts'
import type { Detector, Finding } from '../detector.ts'
import { HTTP_SCENARIOS } from './http-scenarios.ts'
import { detach } from './detach-string.ts'
import { GenerationalIpIndex } from './ip-cache.ts'
import { LeakyBuckets } from './leaky-bucket.ts'
import { classifyRequest } from './request-patterns.ts'
import { withParams, type ScenarioParams, type ScenarioSpec } from './scenario-spec.ts'
import { SSH_SCENARIOS } from './ssh-scenarios.ts'

export const ALL_SCENARIOS: readonly ScenarioSpec[] = [...SSH_SCENARIOS, ...HTTP_SCENARIOS]

export interface ScenarioDetectorInit {
  /** per-scenario overrides by name; `enabled: false` drops a scenario */
  scenarios: Record<string, ScenarioParams>
  /** most addresses tracked at once; the least recently seen is forgotten first */
  maxTrackedIps: number
  /** cap on remembered distinct values per bucket (a scanner sending a million paths must not cost memory) */
  maxDistinct: number
}

const DEFAULTS: ScenarioDetectorInit = { scenarios: {}, maxTrackedIps: 200_000, maxDistinct: 256 }

/** One service's scenarios, its addresses, and their buckets (a row of one bucket per scenario each). */
class ServiceState {
  readonly specs: ScenarioSpec[]
  readonly buckets: LeakyBuckets
  readonly ips: GenerationalIpIndex

  constructor(specs: ScenarioSpec[], maxTrackedIps: number) {
    this.specs = specs
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
      if (!spec.filter(event, flags)) continue
      if (row === -1) {
        row = buckets.addRow()
        service.ips.set(event.ip, row)
      }
      let b = buckets.bucket(row, i)
      if (b === -1) b = buckets.addBucket(row, i)
      const finding = this.#pour(spec, buckets, b, event)
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

  stats(): Record<string, number> {
    return {
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
