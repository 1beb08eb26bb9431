/**
 * Per-example gradient norms and clipped sums from a batch's activations and deltas, without a loop over the
 * examples. Since dW_i = a_i ⊗ δ_i, ||dW_i||² = ||a_i||² ||δ_i||² and ||db_i||² = ||δ_i||², so example i's squared
 * norm over all layers is Σ_l (||a_il||² + 1) ||δ_il||². Clipping scales example i by c_i = min(1, C / ||g_i||),
 * and the clipped sum over the batch is Σ_i c_i a_i ⊗ δ_i = aᵀ diag(c) δ: one matrix product per layer.
 * Call inside `tf.tidy`.
 */
import type * as TfModule from '@tensorflow/tfjs'
import type { Tf } from '../backend.ts'
import type { BatchBackprop } from './mlp-backprop.ts'

type Tensor = TfModule.Tensor
type Tensor1D = TfModule.Tensor1D

/** each example's L2 gradient norm over all parameters, [B] */
export function perExampleGradientNorms(tf: Tf, bp: BatchBackprop): Tensor1D {
  let squared: Tensor = tf.zeros([bp.loss.shape[0]])
  for (let l = 0; l < bp.deltas.length; l++) {
    const inputSq = tf.add(tf.sum(tf.square(bp.inputs[l]), 1), 1)
    squared = tf.add(squared, tf.mul(inputSq, tf.sum(tf.square(bp.deltas[l]), 1)))
  }
  return tf.sqrt(squared) as Tensor1D
}

/** c_i = min(1, C / ||g_i||): the factor that brings each example's gradient norm to at most C */
export function clipFactors(tf: Tf, norms: Tensor1D, clipNorm: number): Tensor1D {
  if (clipNorm === Infinity) return tf.onesLike(norms)
  return tf.minimum(1, tf.div(clipNorm, tf.maximum(norms, 1e-12))) as Tensor1D
}

/** Σ_i c_i g_i in weights order [dW1, db1, ...]; with c = 1 it is the plain summed gradient */
export function weightedGradientSum(tf: Tf, bp: BatchBackprop, factors: Tensor1D): Tensor[] {
  const c = tf.reshape(factors, [-1, 1])
  return bp.deltas.flatMap((delta, l) => {
    const scaled = tf.mul(delta, c)
    // explicit transpose: wasm matMul with transposeA is several times slower
    return [tf.matMul(tf.transpose(bp.inputs[l]), scaled), tf.sum(scaled, 0)]
  })
}

/**
 * Every example's full gradient, [dW_l: [B, in, out], db_l: [B, out], ...]. O(B x parameters) memory: for tests
 * and small batches only; training uses the norms and the clipped sum above.
 */
export function perExampleGradients(tf: Tf, bp: BatchBackprop): Tensor[] {
  return bp.deltas.flatMap((delta, l) => [
    tf.mul(tf.expandDims(bp.inputs[l], 2), tf.expandDims(delta, 1)),
    delta,
  ])
}
