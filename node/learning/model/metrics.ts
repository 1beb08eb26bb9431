/**
 * Binary detection metrics over scores in 0..1 and labels (1 = attack). Precision, recall and F1 are for the
 * attack class; FPR is the share of benign records flagged, the figure operators feel as false bans. ROC-AUC is
 * threshold-free: the Mann-Whitney U statistic (probability a random attack outscores a random benign record,
 * ties counting one half), computed from average ranks in O(n log n).
 */
import type { Tf } from '../backend.ts'
import type { MlpModel } from './mlp.ts'
import { predictBatch } from './mlp-predict.ts'
import { DimensionMismatchError } from './model-errors.ts'

export interface BinaryMetrics {
  n: number
  tp: number
  fp: number
  tn: number
  fn: number
  accuracy: number
  precision: number
  recall: number
  f1: number
  /** false positive rate: fp / (fp + tn) */
  fpr: number
  rocAuc: number
}

export const DEFAULT_THRESHOLD = 0.5

export function binaryMetrics(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  threshold = DEFAULT_THRESHOLD,
): BinaryMetrics {
  if (scores.length !== labels.length) {
    throw new DimensionMismatchError(`${scores.length} scores for ${labels.length} labels`)
  }
  let tp = 0
  let fp = 0
  let tn = 0
  let fn = 0
  for (let i = 0; i < scores.length; i++) {
    const predicted = scores[i] >= threshold
    if (labels[i] === 1) predicted ? tp++ : fn++
    else predicted ? fp++ : tn++
  }
  const n = scores.length
  const precision = tp + fp > 0 ? tp / (tp + fp) : 0
  const recall = tp + fn > 0 ? tp / (tp + fn) : 0
  return {
    n,
    tp,
    fp,
    tn,
    fn,
    accuracy: n > 0 ? (tp + tn) / n : 0,
    precision,
    recall,
    f1: precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0,
    fpr: fp + tn > 0 ? fp / (fp + tn) : 0,
    rocAuc: rocAuc(scores, labels),
  }
}

/** ROC-AUC by average ranks; NaN when one class is absent */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = scores.length
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b])
  let positives = 0
  let rankSum = 0
  for (let i = 0; i < n;) {
    let j = i
    while (j + 1 < n && scores[order[j + 1]] === scores[order[i]]) j++
    const averageRank = (i + j) / 2 + 1
    for (let k = i; k <= j; k++) {
      if (labels[order[k]] === 1) {
        positives++
        rankSum += averageRank
      }
    }
    i = j + 1
  }
  const negatives = n - positives
  if (positives === 0 || negatives === 0) return NaN
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives)
}

/** score every row of a raw n x inputDim matrix and measure against labels */
export function evaluateModel(
  tf: Tf,
  model: MlpModel,
  x: Float32Array,
  labels: ArrayLike<number>,
  threshold = DEFAULT_THRESHOLD,
): BinaryMetrics {
  return binaryMetrics(predictBatch(tf, model, x), labels, threshold)
}
