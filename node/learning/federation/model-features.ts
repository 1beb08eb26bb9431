/**
 * What the federated model's inputs are. Live nodes learn from their own per-address windows (`window`); the
 * simulator can run a federation on NSL-KDD connection records (`nsl-kdd`) to measure accuracy on a public test
 * set. A node whose model is not on the live schema neither scores nor learns from its own traffic: its windows
 * would not fit the model.
 */
import { NSL_KDD_FEATURE_NAMES, NSL_KDD_SCHEMA } from '../data/nsl-kdd-schema.ts'
import {
  LIVE_FEATURE_NAMES,
  LIVE_FEATURE_SCHEMA,
  type FeatureSchemaRef,
} from '../model/feature-schema-ref.ts'

export const MODEL_FEATURES = ['window', 'nsl-kdd'] as const
export type ModelFeatures = (typeof MODEL_FEATURES)[number]

export const MODEL_FEATURE_SETS: Record<
  ModelFeatures,
  { schema: FeatureSchemaRef; names: readonly string[]; live: boolean }
> = {
  window: { schema: LIVE_FEATURE_SCHEMA, names: LIVE_FEATURE_NAMES, live: true },
  'nsl-kdd': { schema: NSL_KDD_SCHEMA, names: NSL_KDD_FEATURE_NAMES, live: false },
}
