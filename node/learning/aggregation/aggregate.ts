import { InvalidAggregationOptionError } from './aggregation-errors.ts'
import { coordinateMedian } from './coordinate-median.ts'
import { fedAvg } from './fed-avg.ts'
import { krum, maxKrumByzantine } from './krum.ts'
import type { WeightedUpdate } from './weighted-update.ts'
import { normBounded } from './norm-bound.ts'
import { DEFAULT_TRIM_FRACTION, trimmedMean } from './trimmed-mean.ts'

export const AGGREGATION_RULES = ['fedavg', 'median', 'trimmed-mean', 'krum'] as const
export type AggregationRule = (typeof AGGREGATION_RULES)[number]

export interface AggregateOptions {
  /** 'trimmed-mean': fraction trimmed from each end; DEFAULT_TRIM_FRACTION unless given */
  trimFraction?: number
  /** 'krum': assumed number of Byzantine updates; the most n allows, floor((n - 3) / 2), unless given */
  f?: number
  /** 'krum': how many best-scored updates to average (multi-Krum); 1 unless given */
  m?: number
  /** 'median': weighted median instead of the plain one */
  weightedMedian?: boolean
  /** bound every update's L2 norm first: a fixed bound or 'median' (adaptive); no bound unless given */
  normBound?: number | 'median'
  /** factor on the median norm for normBound 'median' */
  medianFactor?: number
}

/**
 * The rule a round of `n` updates actually runs, with its options: Krum needs three updates and falls back to
 * the coordinate median below that, and a trimmed mean whose fraction would trim nothing (0.2 of 4) trims one
 * from each end when it can, since trimming nothing is a plain mean. The daemon's rounds and the FL benchmark
 * both go through here, so they measure the same rules.
 */
export function effectiveRule(
  rule: AggregationRule,
  n: number,
  options: AggregateOptions = {},
): { rule: AggregationRule; options: AggregateOptions } {
  if (rule === 'krum' && n < 3) return { rule: 'median', options }
  if (rule === 'trimmed-mean' && n >= 3) {
    const trimFraction = Math.min(Math.max(options.trimFraction ?? 0, 1 / n + 1e-9), 0.499)
    if (Math.floor(trimFraction * n) * 2 < n) return { rule, options: { ...options, trimFraction } }
  }
  return { rule, options }
}

/** Dispatches to a rule by its configured name. Throws the rule's named errors; never returns a partial result. */
export function aggregate(
  rule: AggregationRule,
  updates: readonly WeightedUpdate[],
  options: AggregateOptions = {},
): Float32Array {
  if (!AGGREGATION_RULES.includes(rule)) {
    throw new InvalidAggregationOptionError(
      `unknown aggregation rule "${String(rule)}"; expected one of ${AGGREGATION_RULES.join(', ')}`,
    )
  }
  const input =
    options.normBound === undefined
      ? updates
      : normBounded(updates, options.normBound, { medianFactor: options.medianFactor }).updates
  switch (rule) {
    case 'fedavg':
      return fedAvg(input)
    case 'median':
      return coordinateMedian(input, { weighted: options.weightedMedian })
    case 'trimmed-mean':
      return trimmedMean(input, options.trimFraction ?? DEFAULT_TRIM_FRACTION)
    case 'krum':
      return krum(input, options.f ?? Math.max(0, maxKrumByzantine(input.length)), options.m ?? 1)
  }
}
