/**
 * The federated model as one more detector in the ensemble. It keeps its own per-address windows (the live feature
 * schema), scores each closed window with the adopted model and reports the ones at or above `threshold` as
 * `ml-anomaly`, explained by the features that pushed the score up most (occlusion, `explainOcclusion`). Every
 * closed window also goes to `onWindow`, which is how the node's own traffic becomes training data.
 *
 * A model that has not been validated on this node's own labelled data (the seeded initial model, or one adopted
 * while the gate had too little data to judge it) is provisional: its findings are still reported, so they can
 * corroborate another detector, but their score is capped at `provisionalScoreCap`, which the node sets below what
 * the ensemble needs to ban on the model's word alone. Otherwise a model pushed by peers could ban on its own
 * before anything local ever checked it (issue 15: a poisoned model banned every visitor).
 */
import type { SecurityEvent } from '../../ingest/event.ts'
import type { Detector, Finding } from '../../detect/detector.ts'
import { BoundedLru } from '../../detect/features/bounded-lru.ts'
import { FEATURE_SCHEMA, formatFeature, type FeatureName } from '../../detect/features/feature-schema.ts'
import { WindowAggregator, type ClosedWindow } from '../../detect/features/window-aggregator.ts'
import { explainOcclusion, type FeatureContribution } from '../model/explain.ts'
import type { MlpModel } from '../model/mlp.ts'
import { predictOne } from '../model/mlp-predict.ts'

/**
 * With the ensemble's weight for the model (0.7) and decision threshold (0.7), 0.5 adds 0.35: half of what a ban
 * needs, so a provisional model's finding decides only with another detector behind it. The node lowers it
 * further when the operator lowers `detect.threshold` (`provisionalCap`).
 */
export const PROVISIONAL_SCORE_CAP = 0.5

/**
 * The cap that keeps a provisional model's finding alone at most half of the ensemble's decision threshold, given
 * the model's ensemble weight; never above `configured`.
 */
export function provisionalCap(configured: number, decisionThreshold: number, modelWeight: number): number {
  const half = modelWeight > 0 ? (0.5 * decisionThreshold) / modelWeight : 1
  return Math.max(0, Math.min(configured, half, 1))
}

export interface ModelDetectorInit {
  windowMs: number
  maxIps: number
  /** windows with fewer events are neither scored nor learned from */
  minEvents: number
  /** P(attack) at or above which a window becomes a finding */
  threshold: number
  /** features named in a finding's reasons */
  topFeatures: number
  /** addresses whose latest closed window is kept for `POST /api/ml/predict {ip}` */
  recentWindows: number
  /** the highest score a finding of a model not yet validated on local data may carry */
  provisionalScoreCap: number
}

export const DEFAULT_MODEL_DETECTOR_INIT: ModelDetectorInit = {
  windowMs: 60_000,
  maxIps: 50_000,
  minEvents: 5,
  threshold: 0.9,
  topFeatures: 3,
  recentWindows: 10_000,
  provisionalScoreCap: PROVISIONAL_SCORE_CAP,
}

export const MODEL_SCENARIO = 'ml-anomaly'

/** a window as kept for later prediction: its features copied out of the aggregator's shared chunk */
export interface RecentWindow {
  ip: string
  start: number
  end: number
  events: number
  service: string
  features: Float32Array
}

export interface ModelDetectorStats extends Record<string, number> {
  scoredWindows: number
  flaggedWindows: number
  hasModel: number
}

export class ModelDetector implements Detector {
  readonly name = 'model'
  readonly init: ModelDetectorInit
  readonly #windows: WindowAggregator
  readonly #recent: BoundedLru<string, RecentWindow>
  #model: MlpModel | undefined
  #modelId = ''
  #validated = false
  #onWindow: ((w: ClosedWindow) => void) | undefined
  #scored = 0
  #flagged = 0

  constructor(init: Partial<ModelDetectorInit> = {}) {
    this.init = { ...DEFAULT_MODEL_DETECTOR_INIT, ...init }
    const { windowMs, maxIps, minEvents } = this.init
    this.#windows = new WindowAggregator({ windowMs, maxIps, minEvents })
    this.#recent = new BoundedLru(this.init.recentWindows)
  }

  /**
   * The model to score with (undefined: only collect windows); `id` is its hash, shown in reasons. `validated`:
   * it passed the gate on this node's own labelled data; until then its findings are capped.
   */
  setModel(model: MlpModel | undefined, id = '', opts: { validated?: boolean } = {}): void {
    this.#model = model
    this.#modelId = id
    this.#validated = opts.validated === true
  }

  /** whether the current model's findings are capped (not validated on local data) */
  get provisional(): boolean {
    return !this.#validated
  }

  /** the features of the most recent closed windows, newest last (at most `limit`): what the gate compares on */
  recentFeatures(limit: number): Float32Array[] {
    const all = [...this.#recent.values()]
    return all.slice(Math.max(0, all.length - limit)).map((w) => w.features)
  }

  /** every closed window, scored or not (training data); one listener */
  onWindow(listener: ((w: ClosedWindow) => void) | undefined): void {
    this.#onWindow = listener
  }

  /** the latest closed window of `ip`, if it is still remembered */
  recentWindow(ip: string): RecentWindow | undefined {
    return this.#recent.peek(ip)
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

  stats(): ModelDetectorStats {
    return {
      ...this.#windows.stats(),
      scoredWindows: this.#scored,
      flaggedWindows: this.#flagged,
      hasModel: this.#model === undefined ? 0 : 1,
    }
  }

  #consider(w: ClosedWindow): Finding | undefined {
    this.#recent.set(w.ip, {
      ip: w.ip,
      start: w.start,
      end: w.end,
      events: w.events,
      service: w.service,
      features: Float32Array.from(w.features),
    })
    try {
      this.#onWindow?.(w)
    } catch {
      // training data must never break detection; the collector counts its own failures
    }
    const model = this.#model
    if (model === undefined) return undefined
    this.#scored++
    const score = predictOne(model, w.features)
    if (score < this.init.threshold) return undefined
    this.#flagged++
    const reasons = modelReasons(model, this.#modelId, w, score, this.init)
    const cap = this.init.provisionalScoreCap
    if (!this.#validated && score > cap) {
      reasons.splice(
        1,
        0,
        `the model is not yet validated on this node's data: confidence capped at ${cap.toFixed(2)}, another detector must agree before a ban`,
      )
    }
    return {
      detector: this.name,
      scenario: MODEL_SCENARIO,
      ip: w.ip,
      score: this.#validated ? score : Math.min(score, cap),
      events: w.events,
      first: w.start,
      last: w.last,
      reasons,
    }
  }
}

/** The finding's plain-language reasons: the score, then the features that raised it most. */
export function modelReasons(
  model: MlpModel,
  modelId: string,
  w: Pick<ClosedWindow, 'events' | 'service' | 'start' | 'last' | 'features'>,
  score: number,
  init: Pick<ModelDetectorInit, 'threshold' | 'topFeatures'>,
): string[] {
  const seconds = Math.max(1, Math.round((w.last - w.start) / 1000))
  const reasons = [
    `${w.events} ${w.service} events in ${seconds} s score ${score.toFixed(2)} on the federated model` +
      `${modelId ? ` ${modelId.slice(0, 12)}` : ''} (flagged at ${init.threshold})`,
  ]
  for (const c of topContributions(model, w.features, init.topFeatures)) {
    reasons.push(`${describeFeature(c, w.features)} (+${Math.round(c.contribution * 100)} points)`)
  }
  return reasons
}

/** the features that pushed the score up, largest first */
export function topContributions(model: MlpModel, x: ArrayLike<number>, top: number): FeatureContribution[] {
  return raising(explainOcclusion(model, x), top)
}

/** The `top` contributions that raise the score, from an occlusion pass already made. */
export function raising(contributions: FeatureContribution[], top: number): FeatureContribution[] {
  return contributions.filter((c) => c.contribution > 0).slice(0, top)
}

function describeFeature(c: FeatureContribution, x: ArrayLike<number>): string {
  const i = FEATURE_SCHEMA.names.indexOf(c.feature as FeatureName)
  return i === -1 ? c.feature : formatFeature(c.feature as FeatureName, x[i])
}
