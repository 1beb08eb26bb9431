import type { SecurityEvent, ServiceKind } from '../../ingest/event.ts'
import type { Detector, Finding } from '../detector.ts'
import { SpaceSaving } from './space-saving.ts'
import { eventNoun, formatCount, rateScenario, serviceIndex, SERVICES } from './service-index.ts'

export interface CusumInit {
  /** the service's event count is judged per bucket of this length */
  bucketMs: number
  /** EWMA weight of one bucket in the baseline mean and variance */
  alpha: number
  /** CUSUM allowance and decision threshold, in baseline standard deviations (k = half the shift worth catching) */
  k: number
  h: number
  /** buckets of history before any alarm */
  warmupBuckets: number
  /** an alarming bucket must also be this many times the baseline ... */
  minRatio: number
  /** ... and this many events above it, so a quiet service is not alarmed by one busy visitor */
  minExcess: number
  /** heavy-hitter counters per bucket */
  heavyHitters: number
  /** most addresses named per alarm */
  maxIps: number
  /** an address is named when it surely sent at least this share of the increase */
  minShare: number
  /** longest silence replayed as empty buckets; beyond it the baseline just carries over */
  maxGapBuckets: number
  /** consecutive outlying buckets after which their level is accepted as the new baseline */
  relearnAfter: number
}

export const DEFAULT_CUSUM_INIT: CusumInit = {
  bucketMs: 10_000,
  alpha: 0.1,
  k: 0.5,
  h: 5,
  warmupBuckets: 6,
  minRatio: 2,
  minExcess: 100,
  heavyHitters: 32,
  maxIps: 10,
  minShare: 0.05,
  maxGapBuckets: 360,
  relearnAfter: 60,
}

/** z above which a bucket is an outlier that the baseline does not learn from */
const OUTLIER_Z = 3

class Track {
  /** start of the open bucket; -1 before the first event */
  start = -1
  count = 0
  last = 0
  mean = 0
  variance = 0
  buckets = 0
  /** Page's cumulative sum of standardised excess */
  s = 0
  /** consecutive outlying buckets */
  outliers = 0
  readonly hitters: SpaceSaving
  constructor(k: number) {
    this.hitters = new SpaceSaving(k)
  }
}

/**
 * A service-level change detector: Page's CUSUM (1954) on the number of events per bucket, against a baseline
 * mean and variance tracked by EWMA. It answers "did this service's traffic just jump and stay up?", the shape of
 * a flood from many addresses none of which looks extreme alone. When it alarms it names the addresses behind
 * the jump from a per-bucket Space-Saving sketch, so per event the cost is one counter and one sketch update.
 * One alarm can name several addresses: `observe` returns one finding at a time and `tick` the rest.
 */
export class CusumDetector implements Detector {
  readonly name = 'cusum'
  readonly init: CusumInit
  readonly #tracks: Track[]
  #pending: Finding[] = []
  #alarms = 0

  constructor(init: Partial<CusumInit> = {}) {
    this.init = { ...DEFAULT_CUSUM_INIT, ...init }
    this.#tracks = SERVICES.map(() => new Track(this.init.heavyHitters))
  }

  observe(event: SecurityEvent): Finding | undefined {
    const svc = serviceIndex(event.service)
    const tr = this.#tracks[svc]
    const t = event.time
    if (tr.start < 0) tr.start = t - (t % this.init.bucketMs)
    else if (t >= tr.start + this.init.bucketMs) this.#advance(tr, svc, t)
    const c = event.count
    const w = c !== undefined && c > 1 ? c : 1
    tr.count += w
    tr.hitters.add(event.ip, w)
    if (t > tr.last) tr.last = t
    return this.#pending.length > 0 ? this.#pending.shift() : undefined
  }

  tick(now: number): Finding[] {
    for (let svc = 0; svc < this.#tracks.length; svc++) {
      const tr = this.#tracks[svc]
      if (tr.start >= 0 && now >= tr.start + this.init.bucketMs) this.#advance(tr, svc, now)
    }
    const out = this.#pending
    this.#pending = []
    return out
  }

  stats(): Record<string, number> {
    const [ssh, http] = this.#tracks
    return {
      alarms: this.#alarms,
      buckets: this.#tracks.reduce((n, t) => n + t.buckets, 0),
      httpBaselinePerBucket: Math.round(http.mean),
      sshBaselinePerBucket: Math.round(ssh.mean),
      trackedIps: this.#tracks.reduce((n, t) => n + t.hitters.size, 0),
    }
  }

  /** Closes the open bucket, replays the empty ones up to `t`, and opens the bucket holding `t`. */
  #advance(tr: Track, svc: number, t: number): void {
    const { bucketMs, maxGapBuckets } = this.init
    this.#close(tr, svc, tr.count)
    const empty = Math.min(Math.floor((t - tr.start) / bucketMs) - 1, maxGapBuckets)
    for (let i = 0; i < empty; i++) this.#close(tr, svc, 0)
    tr.start = t - (t % bucketMs)
    tr.count = 0
    tr.last = t
    tr.hitters.clear()
  }

  #close(tr: Track, svc: number, x: number): void {
    const { alpha, k, h, warmupBuckets, minRatio, minExcess, relearnAfter } = this.init
    if (++tr.buckets === 1) {
      tr.mean = x
      tr.variance = Math.max(x, 1) // Poisson guess until there is history
      return
    }
    // the Poisson floor keeps a perfectly steady baseline from turning every extra event into many sigmas
    const sigma = Math.max(Math.sqrt(tr.variance), Math.sqrt(Math.max(tr.mean, 1)))
    const z = (x - tr.mean) / sigma
    tr.s = Math.max(0, tr.s + z - k)
    const excess = x - tr.mean
    if (tr.buckets > warmupBuckets && tr.s > h && x >= minRatio * tr.mean && excess >= minExcess) {
      this.#alarm(tr, svc, x, excess)
      tr.s = 0
    }
    // The baseline is what the service looks like in control: outlying buckets do not feed it, or a flood would
    // become the new normal within a minute (an EWMA variance fed one flood bucket grows by a*d^2 and then hides
    // the rest). Only a level that persists for `relearnAfter` buckets is accepted, as a new normal.
    if (z > OUTLIER_Z && tr.buckets > warmupBuckets) {
      if (++tr.outliers >= relearnAfter) {
        tr.mean = x
        tr.variance = Math.max(x, 1)
        tr.s = 0
        tr.outliers = 0
      }
      return
    }
    tr.outliers = 0
    const d = x - tr.mean
    tr.mean += alpha * d
    tr.variance = (1 - alpha) * (tr.variance + alpha * d * d)
  }

  #alarm(tr: Track, svc: number, x: number, excess: number): void {
    this.#alarms++
    const { bucketMs, maxIps, minShare, h } = this.init
    const service: ServiceKind = SERVICES[svc]
    const per = `${Math.round(bucketMs / 1000)}s`
    const jump = `${service} rate jumped from ${formatCount(tr.mean)}/${per} to ${formatCount(x)}/${per} (CUSUM ${tr.s.toFixed(0)} > ${h} sigma)`
    for (const hh of tr.hitters.top(maxIps)) {
      const sure = hh.count - hh.error
      if (sure < Math.max(1, minShare * excess)) continue
      this.#pending.push({
        detector: this.name,
        scenario: rateScenario(service),
        ip: hh.key,
        score: Math.min(1, 0.5 + sure / excess),
        events: sure,
        first: tr.start,
        last: tr.last,
        reasons: [
          `${jump}; this address sent ${formatCount(sure)} of those ${eventNoun(service)} (${Math.round((100 * sure) / x)}%)`,
        ],
      })
    }
  }
}
