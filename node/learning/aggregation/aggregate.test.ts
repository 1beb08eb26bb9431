import { describe, expect, it } from 'vitest'
import { AGGREGATION_RULES, aggregate, effectiveRule, type AggregationRule } from './aggregate.ts'
import { fedAvg } from './fed-avg.ts'
import { gaussian, seededRandom } from './test-helpers.ts'
import { l2Norm, type WeightedUpdate } from './weighted-update.ts'

const DIMENSION = 200
const HONEST_NOISE = 0.1

function distance(a: Float32Array, b: Float32Array): number {
  return l2Norm(Float32Array.from(a, (x, i) => x - b[i]))
}

/** 10 updates around a common direction; the last `attackers` are sign-flipped and boosted x10. */
function round(attackers: number, seed = 7): { updates: WeightedUpdate[]; truth: Float32Array } {
  const random = seededRandom(seed)
  const truth = Float32Array.from({ length: DIMENSION }, () => gaussian(random))
  const updates = Array.from({ length: 10 }, (_, i) => {
    const delta = Float32Array.from(truth, (t) => t + HONEST_NOISE * gaussian(random))
    if (i >= 10 - attackers) for (let j = 0; j < delta.length; j++) delta[j] *= -10
    return { delta, weight: 1 + (i % 3) }
  })
  return { updates, truth }
}

describe('aggregate', () => {
  it('dispatches by rule name and passes the options on', () => {
    const { updates } = round(0)
    expect(aggregate('fedavg', updates)).toEqual(fedAvg(updates))
    expect(aggregate('trimmed-mean', updates, { trimFraction: 0 })).toEqual(
      fedAvg(updates.map((u) => ({ ...u, weight: 1 }))),
    )
    expect(() => aggregate('krum', updates, { f: 4 })).toThrow(
      expect.objectContaining({ name: 'InsufficientUpdatesError' }),
    )
    expect(() => aggregate('mean' as AggregationRule, updates)).toThrow(
      expect.objectContaining({ name: 'InvalidAggregationOptionError' }),
    )
    expect(() => aggregate('median', [])).toThrow(expect.objectContaining({ name: 'EmptyUpdatesError' }))
  })

  it('bounds norms first when asked', () => {
    const { updates } = round(2)
    const bounded = aggregate('fedavg', updates, { normBound: 'median', medianFactor: 1 })
    const unbounded = aggregate('fedavg', updates)
    expect(l2Norm(bounded)).toBeLessThan(l2Norm(unbounded))
  })

  it('2 of 10 sign-flipped x10 updates barely move median, trimmed mean and Krum but wreck FedAvg', () => {
    const clean = round(0)
    const attacked = round(2)
    const scale = l2Norm(clean.truth)
    const shift = (rule: AggregationRule) =>
      distance(aggregate(rule, attacked.updates), aggregate(rule, clean.updates)) / scale
    const errorToTruth = (rule: AggregationRule) =>
      distance(aggregate(rule, attacked.updates), attacked.truth) / scale

    // FedAvg lands near (8 - 20) / 10 = -1.2 x truth: over 2 truth-lengths away
    expect(shift('fedavg')).toBeGreaterThan(1.5)
    expect(errorToTruth('fedavg')).toBeGreaterThan(2)
    for (const rule of AGGREGATION_RULES.filter((r) => r !== 'fedavg')) {
      expect(shift(rule), rule).toBeLessThan(0.15)
      expect(errorToTruth(rule), rule).toBeLessThan(0.15)
    }
    // Krum with f = 2 picks an honest update, never an attacker
    const picked = aggregate('krum', attacked.updates, { f: 2 })
    expect(attacked.updates.slice(0, 8).some((u) => distance(u.delta, picked) === 0)).toBe(true)
  })
})

describe('effectiveRule', () => {
  it('falls back from Krum below three updates, and keeps it from three', () => {
    expect(effectiveRule('krum', 2, { m: 1 })).toEqual({ rule: 'median', options: { m: 1 } })
    expect(effectiveRule('krum', 3).rule).toBe('krum')
  })

  it('makes a trimmed mean trim at least one from each end when it can, and leaves enough trimming alone', () => {
    // 0.2 of 4 trims nothing: a plain mean in disguise
    const four = effectiveRule('trimmed-mean', 4, { trimFraction: 0.2 })
    expect(Math.floor(four.options.trimFraction! * 4)).toBe(1)
    expect(effectiveRule('trimmed-mean', 10, { trimFraction: 0.2 }).options.trimFraction).toBe(0.2)
    // two updates cannot lose one from each end
    expect(effectiveRule('trimmed-mean', 2, { trimFraction: 0.2 }).options).toEqual({ trimFraction: 0.2 })
    expect(effectiveRule('fedavg', 1)).toEqual({ rule: 'fedavg', options: {} })
  })
})
