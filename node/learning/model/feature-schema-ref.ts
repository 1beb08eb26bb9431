import { FEATURE_SCHEMA } from '../../detect/features/feature-schema.ts'
import { FeatureSchemaMismatchError } from './model-errors.ts'

/**
 * Which feature vector a model consumes. A model only ever scores vectors of the schema it was trained on: the
 * live detector's per-address windows (`window/1`) and the NSL-KDD connection records the benchmarks use
 * (`nsl-kdd/1`) have different dimensions and meanings, and the id is part of the model hash.
 */
export interface FeatureSchemaRef {
  name: string
  version: number
}

export const LIVE_FEATURE_SCHEMA: FeatureSchemaRef = { name: 'window', version: FEATURE_SCHEMA.version }
export const LIVE_FEATURE_NAMES: readonly string[] = FEATURE_SCHEMA.names

export function schemaId(schema: FeatureSchemaRef): string {
  return `${schema.name}/${schema.version}`
}

export function assertSameSchema(expected: FeatureSchemaRef, actual: FeatureSchemaRef): void {
  if (expected.name !== actual.name || expected.version !== actual.version) {
    throw new FeatureSchemaMismatchError(
      `model expects features ${schemaId(expected)}, got ${schemaId(actual)}`,
    )
  }
}
