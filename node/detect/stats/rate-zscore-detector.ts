import type { SecurityEvent, ServiceKind } from '../../ingest/event.ts'
import type { Detector, Finding } from '../detector.ts'
import { BoundedLru } from '../features/bounded-lru.ts'
import { RollingMedian } from './rolling-median.ts'
import { eventNoun, formatCount, rateScenario, serviceIndex, SERVICES } from './service-index.ts'

export interface RateZScoreInit {
  /** tumbling window per address, opened by its first event */
  windowMs: number
  /** robust z-score of the address's log rate against the population's that raises a finding */
  zThreshold: number
  /** and the absolute rate it must also reach, so a quiet site does not ban its only visitor */
  minRatePerMin: number
  /** closed windows the population needs before any verdict */
  minPopulation: number
  /** floor on the robust sigma (log space): a population of identical rates would otherwise make any change infinite */
  minSigma: number
  /** the population sample: this many recent closed windows per service */
  populationSize: number
  maxIps: number
  maxClosePerTick: number
}

export const DEFAULT_RATE_ZSCORE_INIT: RateZScoreInit = {
  windowMs: 60_000,
  zThreshold: 4,
  minRatePerMin: 120,
  minPopulation: 30,
  minSigma: 0.25,
  populationSize: 2048,
  maxIps: 100_000,
  maxClosePerTick: 10_000,
}

/** MAD to standard deviation under normality */
const MAD_TO_SIGMA = 1.4826

/** z at the threshold is 0.5, twice the threshold or more is 1 */
export function zConfidence(z: number, threshold: number): number {
  return 0.5 + 0.5 * Math.min(1, Math.max(0, (z - threshold) / threshold))
}

class RateWindow {
  ip = ''
  start = 0
  end = 0
  last = 0
  count = 0
  flagged = false
}

interface Population {
  sample: RollingMedian
  sigma: number
  /** events in one window from which a finding is due; Infinity until the population is big enough */
  alarmCount: number
}

const POOL_MAX = 1024

/**
 * Compares each address's event rate with everyone else's on the same service. Rates are compared in log space
 * (rates span orders of magnitude; a flood is a multiplicative jump) against the median and MAD of recent
 * windows, which a few heavy hitters cannot drag along. The threshold is turned into an event count once per
 * refresh, so the hot path is a map lookup, an increment and a compare, and a flood is reported the moment it
 * crosses the line rather than when its window closes.
 */
export class RateZScoreDetector implements Detector {
  readonly name = 'rate-zscore'
  readonly init: RateZScoreInit
  readonly #ips: BoundedLru<string, RateWindow>[]
  readonly #pop: Population[]
  readonly #pool: RateWindow[] = []
  #windows = 0
  #flagged = 0

  constructor(init: Partial<RateZScoreInit> = {}) {
    this.init = { ...DEFAULT_RATE_ZSCORE_INIT, ...init }
    const recycle = (_ip: string, w: RateWindow) => this.#recycle(w)
    this.#ips = SERVICES.map(() => new BoundedLru<string, RateWindow>(this.init.maxIps, recycle))
    this.#pop = SERVICES.map(() => ({
      sample: new RollingMedian(this.init.populationSize),
      sigma: 0,
      alarmCount: Infinity,
    }))
  }

  observe(event: SecurityEvent): Finding | undefined {
    const svc = serviceIndex(event.service)
    const ips = this.#ips[svc]
    const t = event.time
    let w = ips.peek(event.ip)
    let closed: Finding | undefined
    if (w === undefined || t >= w.end) {
      if (w !== undefined) closed = this.#close(w, svc)
      else w = this.#pool.pop() ?? new RateWindow()
      w.ip = event.ip
      w.start = t
      w.last = t
      w.end = t + this.init.windowMs
      w.count = 0
      w.flagged = false
      ips.set(event.ip, w) // (re)insert: the table stays in window-opening order, which is closing order
    }
    const c = event.count
    w.count += c !== undefined && c > 1 ? c : 1
    if (t > w.last) w.last = t
    if (!w.flagged && w.count >= this.#pop[svc].alarmCount) {
      w.flagged = true
      return this.#finding(w, svc, true)
    }
    return closed
  }

  tick(now: number): Finding[] {
    const out: Finding[] = []
    let budget = this.init.maxClosePerTick
    for (let svc = 0; svc < SERVICES.length; svc++) {
      const ips = this.#ips[svc]
      for (let ip = ips.oldestKey(); ip !== undefined && budget-- > 0; ip = ips.oldestKey()) {
        const w = ips.peek(ip) as RateWindow
        if (w.end > now) break
        ips.delete(ip)
        const f = this.#close(w, svc)
        if (f !== undefined) out.push(f)
        this.#recycle(w)
      }
    }
    return out
  }

  stats(): Record<string, number> {
    const [ssh, http] = this.#pop
    return {
      trackedIps: this.#ips.reduce((n, m) => n + m.size, 0),
      evictedIps: this.#ips.reduce((n, m) => n + m.evictions, 0),
      windows: this.#windows,
      flaggedWindows: this.#flagged,
      httpMedianPerMin: Math.expm1(http.sample.median),
      sshMedianPerMin: Math.expm1(ssh.sample.median),
    }
  }

  /** The window is over: judge it if it was not judged already, and let it join the population if it is normal. */
  #close(w: RateWindow, svc: number): Finding | undefined {
    this.#windows++
    if (w.flagged) return undefined
    const pop = this.#pop[svc]
    const logRate = Math.log1p(this.#perMinute(w.count))
    if (
      pop.alarmCount !== Infinity &&
      (logRate - pop.sample.median) / pop.sigma > this.init.zThreshold &&
      w.count >= this.#floorCount()
    ) {
      w.flagged = true
      return this.#finding(w, svc, false)
    }
    if (pop.sample.push(logRate)) this.#recalibrate(pop)
    return undefined
  }

  #recalibrate(pop: Population): void {
    const { minPopulation, minSigma, zThreshold, windowMs } = this.init
    pop.sigma = Math.max(MAD_TO_SIGMA * pop.sample.mad, minSigma)
    if (pop.sample.size < minPopulation) return
    const zCount = (Math.expm1(pop.sample.median + zThreshold * pop.sigma) * windowMs) / 60_000
    pop.alarmCount = Math.max(Math.ceil(zCount), this.#floorCount(), 1)
  }

  #floorCount(): number {
    return Math.ceil((this.init.minRatePerMin * this.init.windowMs) / 60_000)
  }

  #perMinute(count: number): number {
    return (count * 60_000) / this.init.windowMs
  }

  #finding(w: RateWindow, svc: number, early: boolean): Finding {
    this.#flagged++
    const service: ServiceKind = SERVICES[svc]
    const pop = this.#pop[svc]
    const { zThreshold, minRatePerMin, windowMs } = this.init
    const rate = this.#perMinute(w.count)
    const z = (Math.log1p(rate) - pop.sample.median) / pop.sigma
    const windowS = Math.round(windowMs / 1000)
    // Early on, the window's count understates the rate: report the pace too, but judge on the count alone.
    const elapsedS = Math.max(1, (w.last - w.start) / 1000)
    const when = early
      ? `in its first ${Math.round(elapsedS)} s (a pace of ${formatCount((60 * w.count) / elapsedS)}/min; at least ${formatCount(rate)}/min over its ${windowS} s window)`
      : `in ${windowS} s (${formatCount(rate)}/min)`
    return {
      detector: this.name,
      scenario: rateScenario(service),
      ip: w.ip,
      score: zConfidence(z, zThreshold),
      events: w.count,
      first: w.start,
      last: w.last,
      reasons: [
        `sent ${formatCount(w.count)} ${eventNoun(service)} ${when}; ${service} population median ${formatRate(Math.expm1(pop.sample.median))}/min, z = ${z.toFixed(1)} (threshold ${zThreshold}, floor ${formatCount(minRatePerMin)}/min)`,
      ],
    }
  }

  #recycle(w: RateWindow): void {
    if (this.#pool.length < POOL_MAX) this.#pool.push(w)
  }
}

function formatRate(perMin: number): string {
  return perMin >= 10 ? formatCount(perMin) : Number(perMin.toPrecision(2)).toString()
}
