import type { SecurityEvent } from '../../ingest/event.ts'
import type { Detector, Finding } from '../detector.ts'
import { GenerationalCache } from '../generational-cache.ts'
import { HTTP_SCENARIOS } from './http-scenarios.ts'
import { leak, newBucket, reset, type BucketState } from './leaky-bucket.ts'
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

/** Buckets of one address, one slot per scenario of its service, created on first use. */
type IpBuckets = (BucketState | undefined)[]

/**
 * Runs every enabled scenario as a leaky bucket per (address, scenario). One event costs a map lookup, one
 * classification of the request line, and a filter call per scenario of its service.
 */
export class ScenarioDetector implements Detector {
  readonly name = 'scenario'
  readonly #ssh: ScenarioSpec[]
  readonly #http: ScenarioSpec[]
  readonly #init: ScenarioDetectorInit
  readonly #ssh_ips: GenerationalCache<string, IpBuckets>
  readonly #http_ips: GenerationalCache<string, IpBuckets>
  #overflows = 0

  constructor(init: Partial<ScenarioDetectorInit> = {}) {
    this.#init = { ...DEFAULTS, ...init }
    const pick = (specs: ScenarioSpec[]) =>
      specs
        .filter((s) => this.#init.scenarios[s.name]?.enabled !== false)
        .map((s) => withParams(s, this.#init.scenarios[s.name]))
    this.#ssh = pick(SSH_SCENARIOS)
    this.#http = pick(HTTP_SCENARIOS)
    this.#ssh_ips = new GenerationalCache(this.#init.maxTrackedIps)
    this.#http_ips = new GenerationalCache(this.#init.maxTrackedIps)
  }

  get scenarios(): ScenarioSpec[] {
    return [...this.#ssh, ...this.#http]
  }

  observe(event: SecurityEvent): Finding | undefined {
    let specs: ScenarioSpec[]
    let ips: GenerationalCache<string, IpBuckets>
    let flags = 0
    if (event.service === 'ssh') {
      specs = this.#ssh
      ips = this.#ssh_ips
    } else if (event.service === 'http') {
      specs = this.#http
      ips = this.#http_ips
      if (event.kind === 'http_request' || event.path !== undefined)
        flags = classifyRequest(event.path, event.userAgent)
    } else {
      return undefined
    }
    let buckets = ips.get(event.ip)
    let best: Finding | undefined
    for (let i = 0; i < specs.length; i++) {
      const spec = specs[i]
      if (spec.resetOn !== undefined && spec.resetOn(event)) {
        const b = buckets?.[i]
        if (b !== undefined) reset(b)
        continue
      }
      if (!spec.filter(event, flags)) continue
      if (buckets === undefined) {
        buckets = new Array(specs.length)
        ips.set(event.ip, buckets)
      }
      let bucket = buckets[i]
      if (bucket === undefined) bucket = buckets[i] = newBucket()
      const finding = this.#pour(spec, bucket, event)
      if (finding !== undefined && (best === undefined || finding.score > best.score)) {
        if (best !== undefined) finding.reasons.push(...best.reasons)
        best = finding
      }
    }
    return best
  }

  #pour(spec: ScenarioSpec, bucket: BucketState, event: SecurityEvent): Finding | undefined {
    const t = event.time
    leak(bucket, t, spec.leakMs)
    if (spec.distinct !== undefined) {
      const value = spec.distinct(event)
      if (value === undefined) return undefined
      bucket.distinct ??= new Set()
      if (bucket.distinct.has(value)) return undefined
      if (bucket.distinct.size < this.#init.maxDistinct) bucket.distinct.add(value)
    }
    const n = event.count ?? 1
    // Log lines can be slightly out of order (buffered writers, sampled logs): keep the true span.
    if (bucket.level === 0) bucket.first = bucket.last = t
    else if (t < bucket.first) bucket.first = t
    bucket.level += n
    bucket.events += n
    if (t > bucket.last) bucket.last = t
    if (spec.minGapMs !== undefined) {
      bucket.times ??= []
      bucket.times.push(t)
      if (bucket.times.length > spec.capacity + 1) bucket.times.shift()
    }
    if (bucket.level <= spec.capacity || t < bucket.quietUntil) return undefined
    if (spec.minGapMs !== undefined && !paced(bucket.times ?? [], spec.minGapMs)) return undefined
    const finding: Finding = {
      detector: this.name,
      scenario: spec.name,
      ip: event.ip,
      score: spec.confidence,
      events: bucket.events,
      first: bucket.first,
      last: bucket.last,
      reasons: [explain(spec, bucket)],
    }
    this.#overflows++
    bucket.quietUntil = t + spec.quietMs
    reset(bucket)
    return finding
  }

  stats(): Record<string, number> {
    return {
      trackedIps: this.#ssh_ips.size + this.#http_ips.size,
      evictedIps: this.#ssh_ips.evictions + this.#http_ips.evictions,
      overflows: this.#overflows,
    }
  }
}

function paced(times: number[], minGapMs: number): boolean {
  for (let i = 1; i < times.length; i++) if (times[i] - times[i - 1] < minGapMs) return false
  return true
}

function explain(spec: ScenarioSpec, bucket: BucketState): string {
  const span = Math.max(0, Math.round((bucket.last - bucket.first) / 1000))
  const leakText = spec.leakMs >= 1000 ? `${spec.leakMs / 1000} s` : `${spec.leakMs} ms`
  return (
    `${spec.name}: ${bucket.events} ${spec.unit} in ${span} s ` +
    `(more than ${spec.capacity}, one forgiven every ${leakText})` +
    (spec.minGapMs !== undefined ? `, each at least ${spec.minGapMs / 1000} s apart` : '')
  )
}
