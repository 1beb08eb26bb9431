export { explainOcclusion } from './explain.ts'
export type { FeatureContribution } from './explain.ts'
export { LIVE_FEATURE_NAMES, LIVE_FEATURE_SCHEMA, assertSameSchema, schemaId } from './feature-schema-ref.ts'
export type { FeatureSchemaRef } from './feature-schema-ref.ts'
export { DEFAULT_THRESHOLD, binaryMetrics, evaluateModel, rocAuc } from './metrics.ts'
export type { BinaryMetrics } from './metrics.ts'
export {
  DEFAULT_HIDDEN,
  applyDelta,
  assertValidModel,
  createMlp,
  flattenWeights,
  getFlatWeights,
  layerShapes,
  parameterCount,
  unflattenWeights,
  weightSizes,
  withFlatWeights,
} from './mlp.ts'
export type { CreateMlpInit, MlpArchitecture, MlpModel } from './mlp.ts'
export { predictBatch, predictOne, sigmoid } from './mlp-predict.ts'
export { MODEL_HASH_FORMAT, canonicalModelBytes, modelHash } from './model-hash.ts'
export { DimensionMismatchError, FeatureSchemaMismatchError, InvalidModelError } from './model-errors.ts'
export {
  featureMoments,
  fitStandardizer,
  identityStandardizer,
  mergeFeatureMoments,
  standardize,
  standardizerFromMoments,
} from './standardizer.ts'
export type { FeatureMoments, Standardizer } from './standardizer.ts'
