import type { SecurityEvent, ServiceKind } from '../../ingest/event.ts'
import { FEATURE_COUNT } from './feature-schema.ts'
import { isScannerUserAgentCached, isSensitivePathCached } from './request-traits.ts'
import { hashString } from './string-hash.ts'
import { Slab } from './slab.ts'
import { isFailureKind } from '../../ingest/parsers/new-event.ts'

/**
 * The running state of one address's window and its conversion into the `FEATURE_SCHEMA` vector. `add` is the
 * hot path: a few counter updates, one string hash per path and user, and no allocation. Objects are reset and
 * reused by the aggregator, so every field is a number (or a cached string) set in the constructor.
 */

// Linear counting (Whang et al. 1990) estimates distinct values from the zero bits of a bitmap: exact enough up
// to a few thousand paths in 128 bytes, where a capped set would saturate at its cap and hide a scanner.
const PATH_WORDS = 32 // 1024 bits
const USER_WORDS = 8 // 256 bits
const MIN_ACTIVE_SECONDS = 10
const MAX_PATH_CHARS = 256

const SKETCHES = new Slab(Int32Array, PATH_WORDS + USER_WORDS)
const VECTORS = new Slab(Float64Array, FEATURE_COUNT)

export class WindowAccumulator {
  ip = ''
  /** window bounds, ms since the epoch: [start, end) */
  start = 0
  end = 0
  last = 0
  /** events, each weighted by its `count` */
  events = 0
  sshEvents = 0
  httpEvents = 0
  otherEvents = 0
  errors = 0
  authFailures = 0
  invalidUsers = 0
  preauth = 0
  httpRequests = 0
  status404 = 0
  status5xx = 0
  withQuery = 0
  pathChars = 0
  nonGet = 0
  scannerUa = 0
  bytes = 0
  sensitive = 0
  /** Welford running mean and sum of squares of the gaps between events, in seconds */
  gaps = 0
  gapMean = 0
  gapM2 = 0
  readonly sketch: Int32Array = SKETCHES.take()
  // One address nearly always sends one user agent: remember the last verdict instead of re-scanning it.
  uaSeen: string | undefined = undefined
  uaScanner = false

  reset(ip: string, start: number, windowMs: number): void {
    this.ip = ip
    this.start = start
    this.end = start + windowMs
    this.last = start
    this.events = this.sshEvents = this.httpEvents = this.otherEvents = 0
    this.errors = this.authFailures = this.invalidUsers = this.preauth = 0
    this.httpRequests = this.status404 = this.status5xx = this.withQuery = 0
    this.pathChars = this.nonGet = this.scannerUa = this.bytes = this.sensitive = 0
    this.gaps = this.gapMean = this.gapM2 = 0
    this.sketch.fill(0)
  }

  add(e: SecurityEvent): void {
    const c = e.count
    const w = c !== undefined && c > 1 && c < 1e6 ? c : 1
    if (this.events > 0) {
      const gap = e.time > this.last ? (e.time - this.last) / 1000 : 0
      const n = ++this.gaps
      const d = gap - this.gapMean
      this.gapMean += d / n
      this.gapM2 += d * (gap - this.gapMean)
    }
    if (e.time > this.last) this.last = e.time
    this.events += w
    const kind = e.kind
    // everything but a success or a plain request is a failure; a plain request fails by its status
    const status = e.status
    if (isFailureKind(kind) || (status !== undefined && status >= 400)) this.errors += w
    if (e.user !== undefined) this.#mark(PATH_WORDS, USER_WORDS, e.user)
    const service = e.service
    if (service === 'ssh') {
      this.sshEvents += w
      if (kind === 'auth_failure') this.authFailures += w
      else if (kind === 'invalid_user') this.invalidUsers += w
      else if (kind === 'preauth_disconnect' || kind === 'no_identification' || kind === 'bad_protocol')
        this.preauth += w
    } else if (service === 'http') {
      this.httpEvents += w
      if (kind === 'http_request') this.#request(e, w)
    } else {
      this.otherEvents += w
    }
  }

  #request(e: SecurityEvent, w: number): void {
    this.httpRequests += w
    const status = e.status
    if (status === 404) this.status404 += w
    else if (status !== undefined && status >= 500 && status < 600) this.status5xx += w
    const path = e.path
    if (path !== undefined) {
      this.#mark(0, PATH_WORDS, path)
      if (path.indexOf('?') !== -1) this.withQuery += w
      this.pathChars += (path.length < MAX_PATH_CHARS ? path.length : MAX_PATH_CHARS) * w
      if (isSensitivePathCached(path)) this.sensitive += w
    }
    const method = e.method
    if (method !== undefined && method !== 'GET' && method !== 'HEAD') this.nonGet += w
    const ua = e.userAgent
    if (ua !== this.uaSeen || ua === undefined) {
      this.uaSeen = ua
      this.uaScanner = isScannerUserAgentCached(ua)
    }
    if (this.uaScanner) this.scannerUa += w
    const bytes = e.bytes
    if (bytes !== undefined && bytes > 0) this.bytes += bytes * w
  }

  #mark(from: number, words: number, value: string): void {
    const bit = hashString(value) & (words * 32 - 1)
    this.sketch[from + (bit >>> 5)] |= 1 << (bit & 31)
  }

  /** the service with the most events (ties go to http, then ssh) */
  get service(): ServiceKind {
    if (this.httpEvents >= this.sshEvents && this.httpEvents >= this.otherEvents && this.httpEvents > 0)
      return 'http'
    if (this.sshEvents >= this.otherEvents && this.sshEvents > 0) return 'ssh'
    return 'other'
  }

  distinctPaths(): number {
    return linearCount(this.sketch, 0, PATH_WORDS)
  }

  distinctUsers(): number {
    return linearCount(this.sketch, PATH_WORDS, PATH_WORDS + USER_WORDS)
  }

  /**
   * The `FEATURE_SCHEMA` vector of what was added so far; see `FEATURE_DOCS` for each definition. Without `out`
   * the vector is a view into a shared chunk (see `Slab`): copy it to keep many of them for long.
   */
  toFeatureVector(out: Float64Array = VECTORS.take()): Float64Array {
    const n = this.events
    const ssh = this.sshEvents
    const req = this.httpRequests
    const activeSeconds = Math.max((this.last - this.start) / 1000, MIN_ACTIVE_SECONDS)
    let meanGap = this.gapMean
    let cv = 1 // fewer than two gaps say nothing about regularity: use the Poisson value
    if (this.gaps === 0) meanGap = (this.end - this.start) / 1000
    else if (this.gaps >= 2) cv = this.gapMean > 0 ? Math.sqrt(this.gapM2 / this.gaps) / this.gapMean : 0
    out[0] = Math.log1p(n)
    out[1] = Math.log1p((60 * n) / activeSeconds)
    out[2] = ratio(this.errors, n)
    out[3] = ratio(this.status404, req)
    out[4] = ratio(this.status5xx, req)
    out[5] = req > 0 ? Math.min(1, this.distinctPaths() / req) : 0
    out[6] = Math.log1p(this.distinctUsers())
    out[7] = ratio(this.authFailures, ssh)
    out[8] = ratio(this.invalidUsers, ssh)
    out[9] = ratio(this.preauth, ssh)
    out[10] = Math.log1p(meanGap)
    out[11] = Math.log1p(cv)
    out[12] = ratio(this.withQuery, req)
    out[13] = req > 0 ? this.pathChars / req / MAX_PATH_CHARS : 0
    out[14] = ratio(this.nonGet, req)
    out[15] = ratio(this.scannerUa, req)
    out[16] = req > 0 ? Math.log1p(this.bytes / req) : 0
    out[17] = ratio(this.sensitive, req)
    out[18] = ratio(ssh, n)
    return out
  }
}

function ratio(part: number, whole: number): number {
  return whole > 0 ? part / whole : 0
}

function popcount32(v: number): number {
  v = v - ((v >>> 1) & 0x55555555)
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333)
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff
}

/** distinct-value estimate -m ln(zeros / m); a full bitmap saturates at m ln m */
function linearCount(words: Int32Array, from: number, to: number): number {
  const m = (to - from) * 32
  let zeros = 0
  for (let i = from; i < to; i++) zeros += 32 - popcount32(words[i])
  return zeros === 0 ? m * Math.log(m) : -m * Math.log(zeros / m)
}

/** The feature vector of one address's events taken as one window (API use: "why was this window flagged?"). */
export function windowFeatures(events: readonly SecurityEvent[], windowMs = 60_000): Float64Array {
  const acc = new WindowAccumulator()
  if (events.length === 0) return acc.toFeatureVector()
  acc.reset(events[0].ip, events[0].time, windowMs)
  for (const e of events) acc.add(e)
  return acc.toFeatureVector()
}
