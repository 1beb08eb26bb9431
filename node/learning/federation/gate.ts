/**
 * The evaluation gate: a node adopts a new global model only if, on its own held-out validation slice, it is not
 * worse than the current one by more than a margin, on F1 (what operators feel as missed attacks and false bans)
 * and on mean log-loss (which still moves when F1 is flat, e.g. early on). Evaluation runs in plain JavaScript,
 * one window at a time: the slice is small and the result must not depend on a tensor backend.
 *
 * Without enough labelled validation data the gate cannot say whether a model is better, but it can still say
 * whether it would change what this node sees: it scores the node's own recent windows with both models and turns
 * down a candidate that flips many of them across the detector threshold or moves their scores a lot. It never
 * "follows whoever answered": a model adopted without local validation is provisional (see `ModelDetector`).
 */
import { LearningSchema } from '../../../config/schema.ts'
import type { GateDecision } from '../registry/model-registry.ts'
import { binaryMetrics, type BinaryMetrics } from '../model/metrics.ts'
import type { MlpModel } from '../model/mlp.ts'
import { predictOne } from '../model/mlp-predict.ts'
import type { Dataset } from './training-data.ts'

export interface GateInit {
  /** largest F1 drop tolerated */
  f1Margin: number
  /** largest rise in mean log-loss tolerated */
  lossMargin: number
  /** with fewer validation examples (or one class missing) the node cannot judge on labels */
  minValidation: number
  /** without labels: the largest share of recent windows whose flag (score >= the detector threshold) may flip */
  maxFlipShare: number
  /** without labels: the largest mean absolute change of the recent windows' scores */
  maxMeanShift: number
  /** without labels: fewer recent windows than this say nothing either; the model is then taken provisionally */
  minShiftWindows: number
}

/** recent windows scored per judgement: enough to see a shift, bounded so a gate costs little */
export const MAX_SHIFT_WINDOWS = 500

/**
 * The gate's defaults are config's (config/schema.ts, learning.gate), taken from there rather than stated again.
 * Why those values: margins wide enough for honest noise (a DP-noised first round from a random start can raise a
 * few hundred examples' log-loss by ~0.1) and narrow enough for harm (a poisoned aggregate raises it by 0.5 and
 * more). Without labels: the seeded initial model scores ordinary windows around 0.2 and a trained one moves most
 * of them by well under 0.3; a model that calls everything an attack (every weight 0.5: issue 15) moves them by
 * ~0.8 and flips all of them. A fifth of the windows flipping is more than a round of honest learning does to
 * mostly benign traffic.
 */
export const DEFAULT_GATE_INIT: GateInit = LearningSchema.parse({}).gate

/** How a candidate would change the scores of the node's own recent windows, compared with the current model. */
export interface PredictionShift {
  n: number
  /** windows whose flag (score >= threshold) differs between the two models */
  flipped: number
  /** of which newly flagged by the candidate */
  newlyFlagged: number
  /** mean |candidate score - current score| */
  meanShift: number
}

export function predictionShift(
  current: MlpModel,
  candidate: MlpModel,
  windows: readonly ArrayLike<number>[],
  threshold: number,
): PredictionShift {
  let flipped = 0
  let newlyFlagged = 0
  let total = 0
  const n = Math.min(windows.length, MAX_SHIFT_WINDOWS)
  for (let i = 0; i < n; i++) {
    const a = predictOne(current, windows[i])
    const b = predictOne(candidate, windows[i])
    const shift = Number.isFinite(a) && Number.isFinite(b) ? Math.abs(b - a) : 1
    total += shift
    const flagA = a >= threshold
    const flagB = !(b < threshold) // a non-finite score is as bad as a flag
    if (flagA !== flagB) {
      flipped++
      if (flagB) newlyFlagged++
    }
  }
  return { n, flipped, newlyFlagged, meanShift: n > 0 ? total / n : 0 }
}

export interface Evaluation extends BinaryMetrics {
  /** mean binary cross-entropy */
  loss: number
}

const P_FLOOR = 1e-7

export function evaluate(model: MlpModel, data: Dataset): Evaluation {
  const d = model.architecture.inputDim
  const n = data.y.length
  const scores = new Float64Array(n)
  let loss = 0
  for (let i = 0; i < n; i++) {
    const p = predictOne(model, data.x.subarray(i * d, (i + 1) * d))
    scores[i] = p
    const q = Math.min(1 - P_FLOOR, Math.max(P_FLOOR, p))
    loss -= data.y[i] === 1 ? Math.log(q) : Math.log(1 - q)
  }
  return { ...binaryMetrics(scores, data.y), loss: n > 0 ? loss / n : 0 }
}

export function canJudge(data: Dataset, init: GateInit): boolean {
  let positives = 0
  for (let i = 0; i < data.y.length; i++) positives += data.y[i] === 1 ? 1 : 0
  return data.y.length >= init.minValidation && positives > 0 && positives < data.y.length
}

export function gateDecision(
  current: Evaluation | undefined,
  candidate: Evaluation | undefined,
  init: GateInit,
  shift?: PredictionShift,
): GateDecision {
  if (current === undefined || candidate === undefined) {
    const noLabels = `too little validation data to judge (need ${init.minValidation} with both classes)`
    if (shift === undefined || shift.n < init.minShiftWindows) {
      return {
        decision: 'accept',
        reason: `${noLabels} and ${shift?.n ?? 0} recent windows (need ${init.minShiftWindows}) to compare: adopted provisionally, its findings cannot ban on their own until it validates on this node's data`,
      }
    }
    const moved = `${shift.flipped} of ${shift.n} recent windows change their flag (${shift.newlyFlagged} newly flagged), mean score change ${shift.meanShift.toFixed(3)}`
    if (shift.flipped > init.maxFlipShare * shift.n || !(shift.meanShift <= init.maxMeanShift)) {
      return {
        decision: 'reject',
        reason: `${noLabels}, and it would change this node's predictions sharply: ${moved} (at most ${init.maxFlipShare} of them and ${init.maxMeanShift})`,
      }
    }
    return {
      decision: 'accept',
      reason: `${noLabels}; predictions on recent traffic barely move (${moved}): adopted provisionally, its findings cannot ban on their own until it validates on this node's data`,
    }
  }
  const f = (v: number) => v.toFixed(3)
  const change = `F1 ${f(current.f1)} -> ${f(candidate.f1)}, loss ${f(current.loss)} -> ${f(candidate.loss)} on ${candidate.n} examples`
  if (!Number.isFinite(candidate.loss)) return { decision: 'reject', reason: `non-finite loss (${change})` }
  if (current.f1 - candidate.f1 > init.f1Margin) {
    return { decision: 'reject', reason: `F1 dropped by more than ${init.f1Margin} (${change})` }
  }
  if (candidate.loss - current.loss > init.lossMargin) {
    return { decision: 'reject', reason: `loss rose by more than ${init.lossMargin} (${change})` }
  }
  return { decision: 'accept', reason: `not worse than the current model (${change})` }
}

/** metrics as stored with a model version and announced: finite numbers only */
export function metricsRecord(e: Evaluation | undefined): Record<string, number> {
  if (e === undefined) return {}
  const out: Record<string, number> = {
    precision: e.precision,
    recall: e.recall,
    f1: e.f1,
    fpr: e.fpr,
    accuracy: e.accuracy,
    loss: e.loss,
    rocAuc: e.rocAuc,
    'eval-examples': e.n,
  }
  for (const [k, v] of Object.entries(out)) if (!Number.isFinite(v)) delete out[k]
  return out
}
