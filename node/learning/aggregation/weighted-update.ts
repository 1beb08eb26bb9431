import { DimensionMismatchError, EmptyUpdatesError, InvalidUpdateError } from './aggregation-errors.ts'

/**
 * One participant's contribution to a round: the flat parameter delta (all tensors concatenated in the model's
 * fixed order) and its aggregation weight. The caller computes the weight, typically example-count bucket times the
 * reporter's reputation, so the rules here never see who sent what.
 */
export interface WeightedUpdate {
  delta: Float32Array
  weight: number
}

/**
 * Checks what every rule relies on and returns the common length. Non-finite values are refused rather than
 * skipped: one NaN would poison a mean, and sorting with NaN has no order, so the median would be arbitrary.
 */
export function assertUpdates(updates: readonly WeightedUpdate[]): number {
  if (!Array.isArray(updates) || updates.length === 0) throw new EmptyUpdatesError('no updates to aggregate')
  const first = updates[0]?.delta
  if (!(first instanceof Float32Array))
    throw new DimensionMismatchError('update 0: delta must be a Float32Array')
  const length = first.length
  updates.forEach((u, i) => {
    if (!(u?.delta instanceof Float32Array)) {
      throw new DimensionMismatchError(`update ${i}: delta must be a Float32Array`)
    }
    if (u.delta.length !== length) {
      throw new DimensionMismatchError(`update ${i}: ${u.delta.length} parameters, update 0 has ${length}`)
    }
    if (!(typeof u.weight === 'number' && Number.isFinite(u.weight) && u.weight >= 0)) {
      throw new InvalidUpdateError(`update ${i}: weight must be a finite number >= 0, got ${u.weight}`)
    }
    for (let j = 0; j < length; j++) {
      if (!Number.isFinite(u.delta[j]))
        throw new InvalidUpdateError(`update ${i}: parameter ${j} is not finite`)
    }
  })
  return length
}

/** Sum of the weights; a weighted rule cannot divide by zero. */
export function totalWeight(updates: readonly WeightedUpdate[]): number {
  const total = updates.reduce((sum, u) => sum + u.weight, 0)
  if (!(total > 0)) throw new InvalidUpdateError('the weights sum to zero')
  return total
}

export function l2Norm(delta: Float32Array): number {
  let sum = 0
  for (let i = 0; i < delta.length; i++) sum += delta[i] * delta[i]
  return Math.sqrt(sum)
}
