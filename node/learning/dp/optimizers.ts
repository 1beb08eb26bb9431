/**
 * First-order optimisers over weight lists (Float32Array per tensor), updating in place. Under DP they only ever
 * see the already-noised gradient, so any of them is post-processing and costs no privacy. State (momentum,
 * Adam moments) lives in the optimiser object; a fresh one per federated round keeps rounds independent.
 */
import { DimensionMismatchError } from '../model/model-errors.ts'

export interface Optimizer {
  /** w <- update(w, g); `weights` is modified in place */
  step(weights: Float32Array[], gradient: readonly Float32Array[]): void
}

export interface SgdInit {
  learningRate: number
  /** heavy-ball momentum, 0 for plain SGD */
  momentum?: number
}

function zerosLike(ws: readonly Float32Array[]): Float32Array[] {
  return ws.map((w) => new Float32Array(w.length))
}

function assertSameShapes(ws: readonly Float32Array[], gs: readonly Float32Array[]): void {
  if (ws.length !== gs.length || ws.some((w, i) => w.length !== gs[i].length)) {
    throw new DimensionMismatchError('gradient does not match the weights')
  }
}

/** SGD with heavy-ball momentum: v <- μ v + g, w <- w - η v */
export function sgd(init: SgdInit): Optimizer {
  const lr = init.learningRate
  const mu = init.momentum ?? 0
  let velocity: Float32Array[] | undefined
  return {
    step(weights, gradient) {
      assertSameShapes(weights, gradient)
      velocity ??= zerosLike(weights)
      for (let t = 0; t < weights.length; t++) {
        const w = weights[t]
        const g = gradient[t]
        const v = velocity[t]
        for (let i = 0; i < w.length; i++) {
          v[i] = mu * v[i] + g[i]
          w[i] -= lr * v[i]
        }
      }
    },
  }
}

export interface AdamInit {
  learningRate: number
  beta1?: number
  beta2?: number
  epsilon?: number
}

/** Adam (Kingma & Ba 2015) with bias correction */
export function adam(init: AdamInit): Optimizer {
  const lr = init.learningRate
  const b1 = init.beta1 ?? 0.9
  const b2 = init.beta2 ?? 0.999
  const eps = init.epsilon ?? 1e-8
  let m: Float32Array[] | undefined
  let v: Float32Array[] | undefined
  let t = 0
  return {
    step(weights, gradient) {
      assertSameShapes(weights, gradient)
      m ??= zerosLike(weights)
      v ??= zerosLike(weights)
      t++
      const c1 = 1 - Math.pow(b1, t)
      const c2 = 1 - Math.pow(b2, t)
      for (let k = 0; k < weights.length; k++) {
        const w = weights[k]
        const g = gradient[k]
        const mk = m[k]
        const vk = v[k]
        for (let i = 0; i < w.length; i++) {
          mk[i] = b1 * mk[i] + (1 - b1) * g[i]
          vk[i] = b2 * vk[i] + (1 - b2) * g[i] * g[i]
          w[i] -= (lr * (mk[i] / c1)) / (Math.sqrt(vk[i] / c2) + eps)
        }
      }
    },
  }
}
