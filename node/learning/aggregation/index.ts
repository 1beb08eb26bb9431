export { AGGREGATION_RULES, aggregate, effectiveRule } from './aggregate.ts'
export type { AggregateOptions, AggregationRule } from './aggregate.ts'
export {
  DimensionMismatchError,
  EmptyUpdatesError,
  InsufficientUpdatesError,
  InvalidAggregationOptionError,
  InvalidUpdateError,
} from './aggregation-errors.ts'
export { coordinateMedian } from './coordinate-median.ts'
export type { CoordinateMedianOptions } from './coordinate-median.ts'
export { fedAvg } from './fed-avg.ts'
export { krum, krumScores, maxKrumByzantine } from './krum.ts'
export type { KrumScore } from './krum.ts'
export { assertUpdates, l2Norm } from './weighted-update.ts'
export type { WeightedUpdate } from './weighted-update.ts'
export { DEFAULT_MEDIAN_NORM_FACTOR, boundNorm, normBounded } from './norm-bound.ts'
export type { NormBounded, NormBoundOptions } from './norm-bound.ts'
export { DEFAULT_TRIM_FRACTION, trimmedMean } from './trimmed-mean.ts'
