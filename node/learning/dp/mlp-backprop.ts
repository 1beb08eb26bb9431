/**
 * Forward and backward pass of the MLP for a whole batch, keeping what per-example gradients need. For a dense
 * layer h = a W + b, example i's gradient is dW_i = a_i ⊗ δ_i (outer product of the layer input and the
 * backpropagated delta) and db_i = δ_i; so the batch's activations and deltas hold every per-example gradient
 * without ever forming one (Goodfellow 2015, "Efficient per-example gradient computations"). Loss is binary
 * cross-entropy on the logit, whose delta at the output is sigmoid(z) - y. Call inside `tf.tidy`.
 */
import type * as TfModule from '@tensorflow/tfjs'
import type { Tf } from '../backend.ts'

type Tensor1D = TfModule.Tensor1D
type Tensor2D = TfModule.Tensor2D

export interface BatchBackprop {
  /** the input to each dense layer, [B, in_l]: the standardised batch, then each hidden ReLU output */
  inputs: Tensor2D[]
  /** dLoss_i / dh_l for each layer's pre-activation h_l, [B, out_l] */
  deltas: Tensor2D[]
  /** each example's loss, [B] */
  loss: Tensor1D
  /** each example's output logit, [B] */
  logits: Tensor1D
}

/** the MLP's weights as tensors, [W1, b1, W2, b2, ...] with W [in, out] and b [out] */
export type MlpParams = Array<TfModule.Tensor>

export function mlpBackprop(tf: Tf, params: MlpParams, x: Tensor2D, y: Tensor1D): BatchBackprop {
  const layers = params.length / 2
  const inputs: Tensor2D[] = [x]
  const pre: Tensor2D[] = []
  let a: Tensor2D = x
  for (let l = 0; l < layers; l++) {
    const h = tf.add(tf.matMul(a, params[2 * l] as Tensor2D), params[2 * l + 1]) as Tensor2D
    pre.push(h)
    if (l < layers - 1) {
      a = tf.relu(h)
      inputs.push(a)
    }
  }
  const logits = tf.reshape(pre[layers - 1], [-1]) as Tensor1D
  // softplus(z) - y z, written in the overflow-free form max(z, 0) - y z + log1p(exp(-|z|))
  const loss = tf.add(
    tf.sub(tf.relu(logits), tf.mul(y, logits)),
    tf.log1p(tf.exp(tf.neg(tf.abs(logits)))),
  ) as Tensor1D
  const deltas: Tensor2D[] = new Array(layers)
  deltas[layers - 1] = tf.reshape(tf.sub(tf.sigmoid(logits), y), [-1, 1]) as Tensor2D
  for (let l = layers - 2; l >= 0; l--) {
    // wasm runs matMul with a transpose flag several times slower than an explicit transpose
    const back = tf.matMul(deltas[l + 1], tf.transpose(params[2 * (l + 1)] as Tensor2D))
    deltas[l] = tf.mul(back, tf.step(pre[l])) as Tensor2D
  }
  return { inputs, deltas, loss, logits }
}
