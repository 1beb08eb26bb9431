/** A model (architecture, weights, standardiser) is malformed: wrong shapes, non-finite numbers, unknown kind. */
export class InvalidModelError extends Error {
  override name = 'InvalidModelError'
}

/** A feature vector or weight list does not have the length the model expects. */
export class DimensionMismatchError extends Error {
  override name = 'DimensionMismatchError'
}

/** The model was trained on a different feature schema (name or version) than the one offered. */
export class FeatureSchemaMismatchError extends Error {
  override name = 'FeatureSchemaMismatchError'
}
