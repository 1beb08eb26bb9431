/**
 * Why the model scored a vector as it did, by occlusion against the baseline mean: each feature in turn is reset
 * to its training mean (0 after standardisation, i.e. "an ordinary value") and the score is recomputed. Its
 * contribution is score(x) - score(x with that feature at the mean), in score units: positive pushes towards
 * "attack", negative towards benign. Chosen over gradient x input because it is exact for the feature it
 * removes, needs no tensors (inputDim + 1 forward passes of a small net), and reads directly as "without this
 * feature the score would be 0.31 lower". Contributions do not sum to the score when features interact.
 */
import type { MlpModel } from './mlp.ts'
import { logitStandardized, sigmoid } from './mlp-predict.ts'
import { DimensionMismatchError } from './model-errors.ts'
import { standardize } from './standardizer.ts'

export interface FeatureContribution {
  feature: string
  /** score(x) - score(x with this feature at its training mean), in -1..1 */
  contribution: number
}

/** contributions of every feature, largest magnitude first */
export function explainOcclusion(model: MlpModel, x: ArrayLike<number>): FeatureContribution[] {
  const d = model.architecture.inputDim
  if (x.length !== d) throw new DimensionMismatchError(`model takes ${d} features, got ${x.length}`)
  const z = standardize(model.standardizer, x)
  const score = sigmoid(logitStandardized(model, z))
  const out: FeatureContribution[] = []
  for (let i = 0; i < d; i++) {
    const saved = z[i]
    if (saved === 0) {
      out.push({ feature: model.featureNames[i], contribution: 0 })
      continue
    }
    z[i] = 0
    out.push({ feature: model.featureNames[i], contribution: score - sigmoid(logitStandardized(model, z)) })
    z[i] = saved
  }
  return out.sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution))
}
