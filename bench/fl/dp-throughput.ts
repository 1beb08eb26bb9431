/**
 * `npm run bench:fl`: training throughput of DP-SGD against non-private SGD, in the same process on the same data
 * (NSL-KDD KDDTrain+_20Percent, the 122-64-32-1 MLP), alternating the two so machine load hits both alike. Also a
 * naive DP-SGD that computes each example's gradient in its own pass, for what the batched per-example trick
 * (norms from activations and deltas, clipped sum as one matrix product) buys.
 */
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { initTensorflow } from '../../node/learning/backend.ts'
import { loadNslKdd } from '../../node/learning/data/nsl-kdd.ts'
import { NSL_KDD_SCHEMA } from '../../node/learning/data/nsl-kdd-schema.ts'
import { mulberry32 } from '../../node/detect/features/prng.ts'
import { dpSgdGradient, gatherBatch, weightsToTensors } from '../../node/learning/dp/dp-sgd.ts'
import { seededGaussian } from '../../node/learning/dp/gaussian-noise.ts'
import { trainLocal } from '../../node/learning/dp/local-training.ts'
import { createMlp } from '../../node/learning/model/mlp.ts'
import { fitStandardizer, standardize } from '../../node/learning/model/standardizer.ts'

const { values: args } = parseArgs({
  options: { batch: { type: 'string', default: '128' }, repeats: { type: 'string', default: '3' } },
})
const BATCH = Number(args.batch)
const REPEATS = Number(args.repeats)
const DATA = join(import.meta.dirname, '..', '..', '..', 'shared', 'data', 'nsl-kdd')

const { tf, backend } = await initTensorflow()
const train = await loadNslKdd(join(DATA, 'KDDTrain+_20Percent.txt'))
const model = createMlp({
  schema: NSL_KDD_SCHEMA,
  featureNames: train.featureNames,
  standardizer: fitStandardizer(train.x, train.dims),
  seed: 1,
})
const n = train.y.length

/** examples per second of one local epoch */
function epoch(dp: boolean, seed: number): number {
  const t0 = performance.now()
  const r = trainLocal(tf, model, train, {
    epochs: 1,
    batchSize: BATCH,
    optimizer: 'sgd',
    learningRate: 0.05,
    momentum: 0.9,
    seed,
    privacy: dp ? { clipNorm: 1, noiseMultiplier: 1, delta: 1e-5, noise: seededGaussian(seed) } : undefined,
  })
  // Poisson batches vary in size; count the examples actually expected to be processed
  return (r.steps * BATCH) / ((performance.now() - t0) / 1000)
}

/** naive DP-SGD gradients: one forward/backward pass per example, then clip, sum and noise */
function naive(seed: number, steps: number): number {
  const x = standardize(model.standardizer, train.x)
  const rand = mulberry32(seed)
  const noise = seededGaussian(seed)
  const params = weightsToTensors(tf, model.architecture, model.weights)
  let examples = 0
  const t0 = performance.now()
  for (let s = 0; s < steps; s++) {
    for (let k = 0; k < BATCH; k++) {
      const b = gatherBatch(x, train.y, train.dims, [Math.floor(rand() * n)])
      dpSgdGradient(tf, params, b.x, b.y, { clipNorm: 1, noiseMultiplier: 0, expectedBatchSize: 1, noise })
      examples++
    }
  }
  tf.dispose(params)
  return examples / ((performance.now() - t0) / 1000)
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]
epoch(false, 0) // warm up kernels and the JIT
const plain: number[] = []
const dp: number[] = []
for (let i = 0; i < REPEATS; i++) {
  plain.push(epoch(false, i + 1))
  dp.push(epoch(true, i + 1))
}
const loop = naive(7, 10)
const p = median(plain)
const d = median(dp)
console.log(`DP-SGD throughput, NSL-KDD (${n} records), MLP 122-64-32-1, batch ${BATCH}, backend ${backend}`)
console.log(`| training | examples/s |`)
console.log(`|---|---:|`)
console.log(`| non-private SGD | ${Math.round(p)} |`)
console.log(`| DP-SGD (batched per-example clipping) | ${Math.round(d)} |`)
console.log(`| DP-SGD (naive per-example loop) | ${Math.round(loop)} |`)
console.log(`DP-SGD / SGD = ${(d / p).toFixed(2)}; batched / naive DP = ${(d / loop).toFixed(1)}x`)
