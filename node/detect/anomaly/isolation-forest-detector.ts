import type { SecurityEvent } from '../../ingest/event.ts'
import type { Detector, Finding } from '../detector.ts'
import {
  FEATURE_DOCS,
  FEATURE_SCHEMA,
  formatFeature,
  formatFeatureValue,
  type FeatureName,
} from '../features/feature-schema.ts'
import { WindowAggregator, type ClosedWindow } from '../features/window-aggregator.ts'
import { select } from '../stats/rolling-median.ts'
import { explain, fitIsolationForest, screen, type IsolationForest } from './isolation-forest.ts'
import { VectorReservoir } from './reservoir.ts'

export interface IsolationForestDetectorInit {
  windowMs: number
  maxIps: number
  /** windows with fewer events are neither learned from nor scored: one or two requests say too little */
  minEvents: number
  /** anomaly score s at or above which a window is reported */
  threshold: number
  /** closed windows needed before the first fit */
  minSamples: number
  /** closed windows between refits (a fit of 100 trees costs a few milliseconds: 10,000 windows amortise it to
   * well under a microsecond each) */
  refitEvery: number
  reservoirSize: number
  /** the reservoir is about uniform over this many recent windows */
  reservoirHorizon: number
  trees: number
  sampleSize: number
  seed: number
  /** features named in a finding's reasons */
  topFeatures: number
}

export const DEFAULT_IFOREST_INIT: IsolationForestDetectorInit = {
  windowMs: 60_000,
  maxIps: 50_000,
  minEvents: 5,
  threshold: 0.65,
  minSamples: 256,
  refitEvery: 10_000,
  reservoirSize: 4_096,
  reservoirHorizon: 65_536,
  trees: 100,
  sampleSize: 256,
  seed: 0x1f0e57,
  topFeatures: 3,
}

/** score where confidence starts to grow (an unremarkable window) and the span over which it reaches 1 */
export const ORDINARY_SCORE = 0.5
export const CONFIDENCE_SPAN = 0.3

/** s = 0.5 (nothing stands out) maps to 0, s = 0.65 to 0.5, s = 0.75 to 0.83, s >= 0.8 to 1 */
export function anomalyConfidence(s: number): number {
  return Math.min(1, Math.max(0, (s - ORDINARY_SCORE) / CONFIDENCE_SPAN))
}

/**
 * Learns what one address's minute of traffic usually looks like on this node and reports the windows an
 * isolation forest finds easy to isolate. Per event it only feeds the window aggregator; scoring (10 to 100
 * short tree walks, see `screen`) happens once per closed window, refitting whenever the sample has doubled
 * while it is young and then once per `refitEvery` windows.
 */
export class IsolationForestDetector implements Detector {
  readonly name = 'iforest'
  readonly init: IsolationForestDetectorInit
  readonly #windows: WindowAggregator
  readonly #reservoir: VectorReservoir
  #model: IsolationForest | undefined = undefined
  /** per-feature median of the recent windows, the "typical" value in reasons; computed when first needed after a fit */
  #typical: Float64Array | undefined = undefined
  #sinceFit = 0
  #fitSize = 0
  #refits = 0
  #scored = 0
  #flagged = 0

  constructor(init: Partial<IsolationForestDetectorInit> = {}) {
    this.init = { ...DEFAULT_IFOREST_INIT, ...init }
    const { windowMs, maxIps, minEvents, reservoirSize, reservoirHorizon, seed } = this.init
    this.#windows = new WindowAggregator({ windowMs, maxIps, minEvents })
    this.#reservoir = new VectorReservoir(reservoirSize, FEATURE_SCHEMA.names.length, seed, reservoirHorizon)
  }

  get model(): IsolationForest | undefined {
    return this.#model
  }

  observe(event: SecurityEvent): Finding | undefined {
    const w = this.#windows.observe(event)
    return w === undefined ? undefined : this.#consider(w)
  }

  tick(now: number): Finding[] {
    const out: Finding[] = []
    for (const w of this.#windows.tick(now)) {
      const f = this.#consider(w)
      if (f !== undefined) out.push(f)
    }
    return out
  }

  stats(): Record<string, number> {
    return {
      ...this.#windows.stats(),
      scoredWindows: this.#scored,
      flaggedWindows: this.#flagged,
      reservoir: this.#reservoir.size,
      refits: this.#refits,
      trained: this.#model === undefined ? 0 : 1,
    }
  }

  #consider(w: ClosedWindow): Finding | undefined {
    let finding: Finding | undefined
    if (this.#model !== undefined) {
      this.#scored++
      // most windows are clearly ordinary: screening stops after 10-20 of the 100 trees for them
      const s = screen(this.#model, w.features, this.init.threshold)
      if (s >= this.init.threshold) finding = this.#finding(w, s, this.#model)
    }
    // A flagged window never becomes part of "normal": a persistent attacker must not teach the forest itself.
    if (finding === undefined) this.#reservoir.add(w.features)
    this.#sinceFit++
    const size = this.#reservoir.size
    if (size >= this.init.minSamples && (size >= 2 * this.#fitSize || this.#sinceFit >= this.init.refitEvery))
      this.#refit()
    return finding
  }

  #refit(): void {
    const samples = this.#reservoir.items()
    const { trees, sampleSize, seed } = this.init
    this.#model = fitIsolationForest(samples, {
      trees,
      sampleSize,
      seed: seed + this.#refits,
      featureNames: FEATURE_SCHEMA.names,
    })
    this.#typical = undefined
    this.#fitSize = samples.length
    this.#refits++
    this.#sinceFit = 0
  }

  #finding(w: ClosedWindow, s: number, model: IsolationForest): Finding {
    this.#flagged++
    const typicalValues = (this.#typical ??= medians(this.#reservoir.items()))
    const seconds = Math.max(1, Math.round((w.last - w.start) / 1000))
    const reasons = [
      `${w.events} ${w.service} events in ${seconds} s score ${s.toFixed(2)} on the isolation forest (flagged at ${this.init.threshold}; ordinary windows score about 0.5 or less)`,
    ]
    for (const c of explain(model, w.features).slice(0, this.init.topFeatures)) {
      if (c.contribution <= 0) break
      const name = c.feature as FeatureName
      const i = FEATURE_SCHEMA.names.indexOf(name)
      const typical = formatFeatureValue(FEATURE_DOCS[name].scale, typicalValues[i])
      reasons.push(
        `${formatFeature(name, w.features[i])} (typical ${typical}; ${Math.round(c.contribution * 100)}% of the isolation)`,
      )
    }
    return {
      detector: this.name,
      scenario: 'anomaly',
      ip: w.ip,
      score: anomalyConfidence(s),
      events: w.events,
      first: w.start,
      last: w.last,
      reasons,
    }
  }
}

function medians(samples: readonly Float64Array[]): Float64Array {
  const dims = samples[0]?.length ?? 0
  const out = new Float64Array(dims)
  const column = new Float64Array(samples.length)
  for (let f = 0; f < dims; f++) {
    for (let i = 0; i < samples.length; i++) column[i] = samples[i][f]
    out[f] = select(column, column.length, column.length >> 1)
  }
  return out
}
