import type { SecurityEvent, ServiceKind } from '../../ingest/event.ts'
import type { Detector, Finding } from '../detector.ts'
import { IpSlotTable } from '../features/ip-slot-table.ts'
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

/** per slot: window start, end, last event time, weighted count, and 1 once judged (flagged) */
const START = 0
const END = 1
const LAST = 2
const COUNT = 3
const FLAGGED = 4
const FIELDS = 5

/** One service's open windows: an address table and the numbers of each slot side by side. */
class ServiceWindows {
  readonly ips: IpSlotTable
  v = new Float64Array(256 * FIELDS)

  constructor(maxIps: number) {
    // an evicted window is dropped unjudged, as a window that never closed
    this.ips = new IpSlotTable(maxIps)
  }

  /** the slot's numbers start at the returned offset (the array may have grown) */
  at(slot: number): number {
    const at = slot * FIELDS
    if (at >= this.v.length) {
      const grown = new Float64Array(this.v.length * 2)
      grown.set(this.v)
      this.v = grown
    }
    return at
  }
}

interface Population {
  sample: RollingMedian
  sigma: number
  /** events in one window from which a finding is due; Infinity until the population is big enough */
  alarmCount: number
}

/**
 * Compares each address's event rate with everyone else's on the same service. Rates are compared in log space
 * (rates span orders of magnitude; a flood is a multiplicative jump) against the median and MAD of recent
 * windows, which a few heavy hitters cannot drag along. The threshold is turned into an event count once per
 * refresh, so the hot path is a table lookup, an increment and a compare, and a flood is reported the moment it
 * crosses the line rather than when its window closes.
 */
export class RateZScoreDetector implements Detector {
  readonly name = 'rate-zscore'
  readonly init: RateZScoreInit
  readonly #svc: ServiceWindows[]
  readonly #pop: Population[]
  #windows = 0
  #flagged = 0

  constructor(init: Partial<RateZScoreInit> = {}) {
    this.init = { ...DEFAULT_RATE_ZSCORE_INIT, ...init }
    this.#svc = SERVICES.map(() => new ServiceWindows(this.init.maxIps))
    this.#pop = SERVICES.map(() => ({
      sample: new RollingMedian(this.init.populationSize),
      sigma: 0,
      alarmCount: Infinity,
    }))
  }

  observe(event: SecurityEvent): Finding | undefined {
    const svc = serviceIndex(event.service)
    const sw = this.#svc[svc]
    const ips = sw.ips
    const t = event.time
    let slot = ips.find(event.ip)
    let closed: Finding | undefined
    let at: number
    if (slot === -1 || t >= sw.v[slot * FIELDS + END]) {
      if (slot !== -1) {
        closed = this.#close(sw, slot, svc)
        ips.moveToBack(slot) // the table stays in window-opening order, which is closing order
      } else slot = ips.add(event.ip)
      at = sw.at(slot)
      const v = sw.v
      v[at + START] = t
      v[at + LAST] = t
      v[at + END] = t + this.init.windowMs
      v[at + COUNT] = 0
      v[at + FLAGGED] = 0
    } else at = slot * FIELDS
    const v = sw.v
    const c = event.count
    const count = (v[at + COUNT] += c !== undefined && c > 1 ? c : 1)
    if (t > v[at + LAST]) v[at + LAST] = t
    if (v[at + FLAGGED] === 0 && count >= this.#pop[svc].alarmCount) {
      v[at + FLAGGED] = 1
      return this.#finding(sw, slot, svc, true)
    }
    return closed
  }

  tick(now: number): Finding[] {
    const out: Finding[] = []
    let budget = this.init.maxClosePerTick
    for (let svc = 0; svc < SERVICES.length; svc++) {
      const sw = this.#svc[svc]
      const ips = sw.ips
      for (let slot = ips.oldest(); slot !== -1 && budget-- > 0; slot = ips.oldest()) {
        if (sw.v[slot * FIELDS + END] > now) break
        const f = this.#close(sw, slot, svc)
        ips.remove(slot)
        if (f !== undefined) out.push(f)
      }
    }
    return out
  }

  stats(): Record<string, number> {
    const [ssh, http] = this.#pop
    return {
      trackedIps: this.#svc.reduce((n, m) => n + m.ips.size, 0),
      evictedIps: this.#svc.reduce((n, m) => n + m.ips.evictions, 0),
      windows: this.#windows,
      flaggedWindows: this.#flagged,
      httpMedianPerMin: Math.expm1(http.sample.median),
      sshMedianPerMin: Math.expm1(ssh.sample.median),
    }
  }

  /** The window is over: judge it if it was not judged already, and let it join the population if it is normal. */
  #close(sw: ServiceWindows, slot: number, svc: number): Finding | undefined {
    this.#windows++
    const at = slot * FIELDS
    if (sw.v[at + FLAGGED] !== 0) return undefined
    const pop = this.#pop[svc]
    const count = sw.v[at + COUNT]
    const logRate = Math.log1p(this.#perMinute(count))
    if (
      pop.alarmCount !== Infinity &&
      (logRate - pop.sample.median) / pop.sigma > this.init.zThreshold &&
      count >= this.#floorCount()
    ) {
      sw.v[at + FLAGGED] = 1
      return this.#finding(sw, slot, svc, false)
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

  #finding(sw: ServiceWindows, slot: number, svc: number, early: boolean): Finding {
    this.#flagged++
    const at = slot * FIELDS
    const w = { start: sw.v[at + START], last: sw.v[at + LAST], count: sw.v[at + COUNT] }
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
      ip: sw.ips.ipOf(slot),
      score: zConfidence(z, zThreshold),
      events: w.count,
      first: w.start,
      last: w.last,
      reasons: [
        `sent ${formatCount(w.count)} ${eventNoun(service)} ${when}; ${service} population median ${formatRate(Math.expm1(pop.sample.median))}/min, z = ${z.toFixed(1)} (threshold ${zThreshold}, floor ${formatCount(minRatePerMin)}/min)`,
      ],
    }
  }
}

function formatRate(perMin: number): string {
  return perMin >= 10 ? formatCount(perMin) : Number(perMin.toPrecision(2)).toString()
}
