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
