import { mulberry32, randomInt, type Prng } from '../features/prng.ts'

/**
 * Isolation Forest (Liu, Ting & Zhou, ICDM 2008). Anomalies are few and different, so random axis-parallel
 * splits isolate them in fewer steps than normal points. Each tree is grown on a sub-sample of `sampleSize`
 * points to height ceil(log2 sampleSize); a point's score is s(x, n) = 2^(-E[h(x)] / c(n)), where h(x) is its path
 * length (plus c(leaf size) for leaves that stopped growing with several points in them) and c(n) the average
 * path length of an unsuccessful binary-search-tree lookup, which normalises across sample sizes. s near 1 is an
 * anomaly, well under 0.5 is normal; when nothing stands out every point scores about 0.5.
 *
 * Pure functions over a plain model: the same samples and seed always give the same forest. All trees live in
 * flat typed arrays (one node table), which keeps scoring to array reads and makes the model trivially portable.
 */
export interface IsolationForest {
  trees: number
  /** points each tree was grown on: min(sampleSize, samples) */
  sampleSize: number
  dims: number
  featureNames: string[]
  /** node index of each tree's root */
  roots: Int32Array
  /** split feature per node; -1 at a leaf. Nodes are stored depth-first, so a split's left child is the next node */
  feature: Int32Array
  /** points with value < threshold go left */
  threshold: Float64Array
  /** right child of a split */
  right: Int32Array
  /** training points that reached the node */
  size: Int32Array
  /**
   * Derived for scoring (`packNodes`), never stored: per node, three numbers [feature, threshold, right * 3] for a
   * split and [-1, depth + c(size), 0] for a leaf. One interleaved array keeps a tree walk in few cache lines and
   * turns the leaf's path-length adjustment (a logarithm) into a read.
   */
  packed: Float64Array
}

export interface FitOptions {
  trees: number
  sampleSize: number
  seed: number
  /** names for `explain`; defaults to f0, f1, ... */
  featureNames: readonly string[]
}

export class InvalidForestError extends Error {
  override name = 'InvalidForestError'
}

const EULER_GAMMA = 0.5772156649015329

/** c(n): average path length of an unsuccessful search in a binary search tree of n points (the paper's eq. 1) */
export function averagePathLength(n: number): number {
  if (n <= 1) return 0
  if (n === 2) return 1
  return 2 * (Math.log(n - 1) + EULER_GAMMA) - (2 * (n - 1)) / n
}

export function fitIsolationForest(
  samples: readonly Float64Array[],
  options: Partial<FitOptions> = {},
): IsolationForest {
  const trees = options.trees ?? 100
  const n = samples.length
  if (n === 0) throw new InvalidForestError('cannot fit an isolation forest on no samples')
  const dims = samples[0].length
  for (const s of samples)
    if (s.length !== dims) throw new InvalidForestError(`samples differ in length (${s.length} vs ${dims})`)
  if (!Number.isInteger(trees) || trees < 1)
    throw new InvalidForestError(`trees must be a positive integer, got ${trees}`)
  const psi = Math.min(options.sampleSize ?? 256, n)
  if (!Number.isInteger(psi) || psi < 1)
    throw new InvalidForestError(`sampleSize must be a positive integer, got ${psi}`)
  const featureNames =
    options.featureNames !== undefined
      ? [...options.featureNames]
      : Array.from({ length: dims }, (_, i) => `f${i}`)
  if (featureNames.length !== dims)
    throw new InvalidForestError(`${featureNames.length} feature names for ${dims} features`)

  const rand = mulberry32(options.seed ?? 0x5eed)
  const maxNodes = trees * (2 * psi - 1)
  // one column-major copy: growing scans one feature over a node's points, which then sit in one short column
  const data = new Float64Array(n * dims)
  for (let i = 0; i < n; i++) for (let f = 0; f < dims; f++) data[f * n + i] = samples[i][f]
  const b: Builder = {
    data,
    n,
    rand,
    dims,
    heightLimit: Math.ceil(Math.log2(Math.max(psi, 2))),
    feature: new Int32Array(maxNodes),
    threshold: new Float64Array(maxNodes),
    right: new Int32Array(maxNodes),
    size: new Int32Array(maxNodes),
    nodes: 0,
    order: new Int32Array(dims),
  }
  const roots = new Int32Array(trees)
  const pool = Int32Array.from({ length: n }, (_, i) => i)
  const work = new Int32Array(psi)
  for (let t = 0; t < trees; t++) {
    // partial Fisher-Yates: the first psi slots become a uniform sample without replacement
    for (let i = 0; i < psi; i++) {
      const j = i + randomInt(rand, n - i)
      const tmp = pool[i]
      pool[i] = pool[j]
      pool[j] = tmp
      work[i] = pool[i]
    }
    roots[t] = grow(b, work, 0, psi, 0)
  }
  const m = b.nodes
  const feature = b.feature.slice(0, m)
  const threshold = b.threshold.slice(0, m)
  const right = b.right.slice(0, m)
  const size = b.size.slice(0, m)
  return {
    trees,
    sampleSize: psi,
    dims,
    featureNames,
    roots,
    feature,
    threshold,
    right,
    size,
    packed: packNodes(roots, feature, threshold, right, size),
  }
}

/**
 * The scoring layout of a node table (see `IsolationForest.packed`). Walks every tree once, iteratively, and
 * refuses a table where a node is reachable twice: read from outside, such a table could make walks exponential.
 */
export function packNodes(
  roots: Int32Array,
  feature: Int32Array,
  threshold: Float64Array,
  right: Int32Array,
  size: Int32Array,
): Float64Array {
  const m = feature.length
  const packed = new Float64Array(m * 3)
  const seen = new Uint8Array(m)
  const stack: number[] = []
  for (let t = 0; t < roots.length; t++) {
    stack.push(roots[t], 0)
    while (stack.length > 0) {
      const depth = stack.pop() as number
      const node = stack.pop() as number
      if (seen[node] === 1) throw new InvalidForestError(`node ${node} is reachable twice`)
      seen[node] = 1
      const f = feature[node]
      packed[node * 3] = f
      if (f === -1) {
        packed[node * 3 + 1] = depth + averagePathLength(size[node])
        continue
      }
      packed[node * 3 + 1] = threshold[node]
      packed[node * 3 + 2] = right[node] * 3
      stack.push(right[node], depth + 1, node + 1, depth + 1)
    }
  }
  return packed
}

interface Builder {
  data: Float64Array
  n: number
  rand: Prng
  dims: number
  heightLimit: number
  feature: Int32Array
  threshold: Float64Array
  right: Int32Array
  size: Int32Array
  nodes: number
  order: Int32Array
}

function grow(b: Builder, idx: Int32Array, lo: number, hi: number, depth: number): number {
  const node = b.nodes++
  b.size[node] = hi - lo
  b.feature[node] = -1
  if (hi - lo <= 1 || depth >= b.heightLimit) return node
  // Draw features without replacement until one varies here: a constant feature cannot split, and skipping it
  // (as scikit-learn does) keeps the choice uniform over the features that can.
  const { data, rand, order, dims, n } = b
  for (let i = 0; i < dims; i++) order[i] = i
  let q = -1
  let min = 0
  let max = 0
  for (let k = 0; k < dims && q === -1; k++) {
    const j = k + randomInt(rand, dims - k)
    const f = order[j]
    order[j] = order[k]
    order[k] = f
    min = Infinity
    max = -Infinity
    const column = f * n
    for (let i = lo; i < hi; i++) {
      const v = data[column + idx[i]]
      if (v < min) min = v
      if (v > max) max = v
    }
    if (max > min) q = f
  }
  if (q === -1) return node // all points identical: nothing left to isolate
  let p = min + rand() * (max - min)
  if (!(p > min)) p = min + (max - min) / 2 // p must leave the minimum on the left and the maximum on the right
  let mid = lo
  const column = q * n
  for (let i = lo; i < hi; i++) {
    if (data[column + idx[i]] < p) {
      const tmp = idx[i]
      idx[i] = idx[mid]
      idx[mid++] = tmp
    }
  }
  b.feature[node] = q
  b.threshold[node] = p
  grow(b, idx, lo, mid, depth + 1) // lands at node + 1
  b.right[node] = grow(b, idx, mid, hi, depth + 1)
  return node
}

/** E[h(x)]: mean path length over the trees, unsplit leaves extended by c(leaf size) */
export function meanPathLength(model: IsolationForest, x: ArrayLike<number>): number {
  const { roots, packed } = model
  let total = 0
  for (let t = 0; t < roots.length; t++) total += pathLength(packed, roots[t], x)
  return total / roots.length
}

/** The anomaly score s(x, n) in (0, 1]: about 0.5 for ordinary points, towards 1 for anomalies. */
export function score(model: IsolationForest, x: ArrayLike<number>): number {
  const c = averagePathLength(model.sampleSize)
  if (c === 0) return 0.5
  return Math.pow(2, -meanPathLength(model, x) / c)
}

function pathLength(packed: Float64Array, root: number, x: ArrayLike<number>): number {
  let i = root * 3
  // `| 0` keeps indices small integers: a double used as an array key takes V8's slow generic path
  let f = packed[i] | 0
  while (f >= 0) {
    i = x[f] < packed[i + 1] ? i + 3 : packed[i + 2] | 0
    f = packed[i] | 0
  }
  return packed[i + 1]
}

/** trees walked before `screen` may stop, and how many standard errors clear of the threshold it must be */
export const SCREEN_MIN_TREES = 10
export const SCREEN_MARGIN_SE = 4

/**
 * `score` for a caller that only cares whether x reaches `threshold`, the common case being a clear no. Trees
 * are independent draws of the path length, so after at least SCREEN_MIN_TREES of them, once the running mean
 * path length is SCREEN_MARGIN_SE standard errors longer than the threshold's, the rest cannot plausibly bring it
 * over: the walk stops and the estimate so far is returned. Anything that might reach the threshold is scored
 * on every tree, exactly as `score` does. Deterministic: trees are always visited in the same order.
 */
export function screen(model: IsolationForest, x: ArrayLike<number>, threshold: number): number {
  const c = averagePathLength(model.sampleSize)
  if (c === 0) return 0.5
  const { roots, packed } = model
  const limit = -Math.log2(threshold) * c // mean path length at the threshold
  let mean = 0
  let m2 = 0
  let t = 0
  while (t < roots.length) {
    const h = pathLength(packed, roots[t], x)
    const d = h - mean
    mean += d / ++t
    m2 += d * (h - mean)
    if (t >= SCREEN_MIN_TREES && mean - limit > SCREEN_MARGIN_SE * Math.sqrt(m2 / (t - 1) / t)) break
  }
  return Math.pow(2, -mean / c)
}

export interface FeatureContribution {
  feature: string
  /** share of the isolation of x done by splits on this feature, 0..1, all shares sum to 1 (or all are 0) */
  contribution: number
}

/**
 * Which features isolated x. Every split on x's path narrows the training points x shares a node with, from n
 * to n'; that split is credited log2(n / n') bits to its feature. A split that separates x from nearly all the
 * points at once (an extreme value) earns many bits, one that just halves them earns 1 bit, one where x stays
 * with almost everyone earns nearly 0. Summed over every tree and normalised, the credits are each feature's share
 * of the isolation; they are the same in spirit as a depth weighting (early, lopsided splits dominate) but add up
 * to something readable: a share of the isolation, per feature. Sorted, largest first.
 */
export function explain(model: IsolationForest, x: ArrayLike<number>): FeatureContribution[] {
  const { roots, feature, threshold, right, size } = model
  const bits = new Float64Array(model.dims)
  for (let t = 0; t < roots.length; t++) {
    let node = roots[t]
    let f = feature[node]
    while (f !== -1) {
      const next = x[f] < threshold[node] ? node + 1 : right[node]
      bits[f] += Math.log2(size[node] / size[next])
      node = next
      f = feature[node]
    }
  }
  let total = 0
  for (let i = 0; i < bits.length; i++) total += bits[i]
  return model.featureNames
    .map((feature, i) => ({ feature, contribution: total > 0 ? bits[i] / total : 0 }))
    .sort((a, b) => b.contribution - a.contribution)
}
