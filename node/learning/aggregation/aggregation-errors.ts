/** No updates to aggregate: there is no meaningful "average of nothing", and zeros would silently stall training. */
export class EmptyUpdatesError extends Error {
  override name = 'EmptyUpdatesError'
}

/** Updates of different lengths, or a delta that is not a Float32Array: they cannot be for the same model. */
export class DimensionMismatchError extends Error {
  override name = 'DimensionMismatchError'
}

/** A delta with NaN/Infinity or a weight that is negative, non-finite or all zero. */
export class InvalidUpdateError extends Error {
  override name = 'InvalidUpdateError'
}

/** Too few updates for the rule to give its guarantee (Krum needs n > 2f + 2; a trimmed mean must keep one). */
export class InsufficientUpdatesError extends Error {
  override name = 'InsufficientUpdatesError'
}

/** An option outside its range (trim fraction, f, m, norm bound) or an unknown rule name. */
export class InvalidAggregationOptionError extends Error {
  override name = 'InvalidAggregationOptionError'
}
