/**
 * The evaluation gate: a node adopts a new global model only if, on its own held-out validation slice, it is not
 * worse than the current one by more than a margin, on F1 (what operators feel as missed attacks and false bans)
 * and on mean log-loss (which still moves when F1 is flat, e.g. early on). Evaluation runs in plain JavaScript,
 * one window at a time: the slice is small and the result must not depend on a tensor backend.
 */
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
  /** with fewer validation examples (or one class missing) the node cannot judge and follows the federation */
  minValidation: number
}

/**
 * Margins wide enough for honest noise (a DP-noised first round from a random start can raise a few hundred
 * examples' log-loss by ~0.1) and narrow enough for harm (a poisoned aggregate raises it by 0.5 and more).
 */
export const DEFAULT_GATE_INIT: GateInit = { f1Margin: 0.05, lossMargin: 0.15, minValidation: 20 }

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
): GateDecision {
  if (current === undefined || candidate === undefined) {
    return {
      decision: 'accept',
      reason: `too little validation data to judge (need ${init.minValidation} with both classes): following the federation`,
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
