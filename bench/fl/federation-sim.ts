/**
 * An in-process federation for benchmarks: the same model starts everywhere, each round every participant trains
 * locally from the current global model and sends its weight delta, an aggregation rule combines the deltas, and
 * the global model moves by the result. Byzantine participants train honestly and then send a poisoned delta.
 */
import { aggregate, effectiveRule } from '../../node/learning/aggregation/index.ts'
import type {
  AggregateOptions,
  AggregationRule,
  WeightedUpdate,
} from '../../node/learning/aggregation/index.ts'
import type { Tf } from '../../node/learning/backend.ts'
import { trainLocal } from '../../node/learning/dp/local-training.ts'
import type { LocalTrainingInit, TrainingData } from '../../node/learning/dp/local-training.ts'
import { seededGaussian } from '../../node/learning/dp/gaussian-noise.ts'
import { applyDelta } from '../../node/learning/model/mlp.ts'
import type { MlpModel } from '../../node/learning/model/mlp.ts'

export interface Participant {
  data: TrainingData
  /** DP noise multiplier for this participant's sampling rate, or undefined for non-private training */
  noiseMultiplier?: number
}

/** what a Byzantine participant sends instead of its honest delta Δ */
export type Attack = 'sign-flip-scale10' | 'sign-flip' | 'scale10'

export function poison(delta: Float32Array, attack: Attack): Float32Array {
  const factor = attack === 'sign-flip-scale10' ? -10 : attack === 'sign-flip' ? -1 : 10
  return delta.map((v) => v * factor)
}

export interface FederationInit {
  rounds: number
  local: Partial<LocalTrainingInit>
  rule: AggregationRule
  ruleOptions?: AggregateOptions
  /** indices of Byzantine participants */
  attackers?: readonly number[]
  attack?: Attack
  /** DP parameters shared by all participants (each has its own noise multiplier) */
  privacy?: { clipNorm: number; delta: number }
  seed: number
  /** called after every round, e.g. to log progress */
  onRound?: (round: number, model: MlpModel) => void
}

export interface FederationResult {
  model: MlpModel
  /** the largest epsilon any participant spent (all spend the same budget by construction) */
  epsilon: number
  localSteps: number
  /** the round in which local training diverged (the global model was wrecked), or undefined */
  divergedAt?: number
}

export function runFederation(
  tf: Tf,
  initial: MlpModel,
  participants: readonly Participant[],
  init: FederationInit,
): FederationResult {
  let model = initial
  const attackers = new Set(init.attackers ?? [])
  // one entry per participant: its rounds share the sampling rate and noise, so their steps simply add up
  const spent = participants.map(() => ({ sampleRate: 0, noiseMultiplier: 0, steps: 0 }))
  let epsilon = 0
  let localSteps = 0
  for (let round = 0; round < init.rounds; round++) {
    let updates: WeightedUpdate[]
    try {
      updates = roundUpdates(round)
    } catch (err) {
      // A poisoned global model can be so far off that honest training overflows: the federation has collapsed.
      if ((err as Error).name === 'TrainingDivergedError')
        return { model, epsilon, localSteps, divergedAt: round }
      throw err
    }
    // the rule a daemon's round would run on this many updates (Krum's fallback, the trimmed mean's minimum)
    const applied = effectiveRule(init.rule, updates.length, init.ruleOptions)
    model = applyDelta(model, aggregate(applied.rule, updates, applied.options))
    init.onRound?.(round, model)
  }
  return { model, epsilon, localSteps }

  function roundUpdates(round: number): WeightedUpdate[] {
    return participants.map((p, k) => {
      const seed = init.seed * 1_000_003 + round * 101 + k
      const r = trainLocal(tf, model, p.data, {
        ...init.local,
        seed,
        privacy:
          init.privacy && p.noiseMultiplier !== undefined
            ? {
                ...init.privacy,
                noiseMultiplier: p.noiseMultiplier,
                noise: seededGaussian(seed ^ 0x5eed),
                history: spent[k].steps > 0 ? [spent[k]] : [],
              }
            : undefined,
      })
      localSteps += r.steps
      if (r.privacy) {
        spent[k] = {
          sampleRate: r.privacy.sampleRate,
          noiseMultiplier: r.privacy.noiseMultiplier,
          steps: spent[k].steps + r.steps,
        }
        epsilon = Math.max(epsilon, r.privacy.totalEpsilon)
      }
      const delta = attackers.has(k) ? poison(r.delta, init.attack ?? 'sign-flip-scale10') : r.delta
      return { delta, weight: p.data.y.length }
    })
  }
}
