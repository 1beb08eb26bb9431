/**
 * One round's aggregation, as a pure function so every node that holds the same updates computes the same bytes:
 * updates are sorted by sender key, weights are example bucket x reporter trust, and the rule runs over plain
 * Float32Arrays (float64 accumulators, fixed order; no tensor backend, whose kernels may differ between hosts).
 */
import {
  aggregate,
  effectiveRule,
  type AggregateOptions,
  type AggregationRule,
} from '../aggregation/aggregate.ts'
import { l2Norm, type WeightedUpdate } from '../aggregation/weighted-update.ts'

export interface RoundUpdate {
  /** the envelope's sender public key, hex: the sort key */
  sender: string
  peerId: string
  delta: Float32Array
  exampleBucket: number
  /** the receiver's trust in the sender, 0..1 */
  trust: number
}

export interface RoundParticipant {
  peerId: string
  weight: number
  norm: number
  /** cosine similarity of this update with the aggregate: negative means it pulled the other way and lost */
  cosine: number
}

export interface RoundAggregate {
  delta: Float32Array
  rule: AggregationRule
  /** the rule actually used: Krum needs three updates and falls back to the median below that */
  appliedRule: AggregationRule
  participants: RoundParticipant[]
}

export function aggregateRound(
  updates: readonly RoundUpdate[],
  rule: AggregationRule,
  options: AggregateOptions = {},
): RoundAggregate {
  const sorted = [...updates]
    .filter((u) => u.trust > 0 && u.exampleBucket > 0)
    .sort((a, b) => (a.sender < b.sender ? -1 : a.sender > b.sender ? 1 : 0))
  const weighted: WeightedUpdate[] = sorted.map((u) => ({
    delta: u.delta,
    weight: u.exampleBucket * Math.min(1, u.trust),
  }))
  const { rule: appliedRule, options: opts } = effectiveRule(rule, weighted.length, options)
  const delta = aggregate(appliedRule, weighted, opts)
  const aggNorm = l2Norm(delta)
  const participants = sorted.map((u, i) => {
    const norm = l2Norm(u.delta)
    let dot = 0
    for (let j = 0; j < delta.length; j++) dot += u.delta[j] * delta[j]
    return {
      peerId: u.peerId,
      weight: weighted[i].weight,
      norm,
      cosine: norm > 0 && aggNorm > 0 ? dot / (norm * aggNorm) : 0,
    }
  })
  return { delta, rule, appliedRule, participants }
}
