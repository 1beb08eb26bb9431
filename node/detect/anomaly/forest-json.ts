import { InvalidForestError, packNodes, type IsolationForest } from './isolation-forest.ts'

/**
 * The isolation forest as JSON, for the API, for persisting a fitted model and for tests. Reading is strict: a
 * forest comes from disk or another process, and a malformed node table could otherwise loop or read out of
 * bounds while scoring. Child indices must point forward (nodes are stored parent before children), which rules
 * out cycles.
 */
export const FOREST_FORMAT = 'shieldwall-iforest'
export const FOREST_FORMAT_VERSION = 1

export interface IsolationForestJson {
  format: typeof FOREST_FORMAT
  version: typeof FOREST_FORMAT_VERSION
  trees: number
  sampleSize: number
  dims: number
  featureNames: string[]
  roots: number[]
  feature: number[]
  threshold: number[]
  right: number[]
  size: number[]
}

export function forestToJson(model: IsolationForest): IsolationForestJson {
  return {
    format: FOREST_FORMAT,
    version: FOREST_FORMAT_VERSION,
    trees: model.trees,
    sampleSize: model.sampleSize,
    dims: model.dims,
    featureNames: [...model.featureNames],
    roots: Array.from(model.roots),
    feature: Array.from(model.feature),
    threshold: Array.from(model.threshold),
    right: Array.from(model.right),
    size: Array.from(model.size),
  }
}

export function forestFromJson(json: unknown): IsolationForest {
  const fail = (why: string): never => {
    throw new InvalidForestError(`invalid isolation forest JSON: ${why}`)
  }
  if (typeof json !== 'object' || json === null) return fail('not an object')
  const j = json as Record<string, unknown>
  if (j.format !== FOREST_FORMAT || j.version !== FOREST_FORMAT_VERSION)
    return fail(`unknown format ${String(j.format)} v${String(j.version)}`)
  const posInt = (k: string): number => {
    const v = j[k]
    return typeof v === 'number' && Number.isInteger(v) && v >= 1
      ? v
      : fail(`${k} must be a positive integer`)
  }
  const numbers = (k: string): number[] => {
    const v = j[k]
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isFinite(x)))
      return fail(`${k} must be an array of numbers`)
    return v as number[]
  }
  const trees = posInt('trees')
  const sampleSize = posInt('sampleSize')
  const dims = posInt('dims')
  const names = j.featureNames
  if (!Array.isArray(names) || names.length !== dims || !names.every((s) => typeof s === 'string'))
    fail(`featureNames must be ${dims} strings`)
  const roots = numbers('roots')
  const feature = numbers('feature')
  const threshold = numbers('threshold')
  const right = numbers('right')
  const size = numbers('size')
  const m = feature.length
  if (roots.length !== trees) fail(`${roots.length} roots for ${trees} trees`)
  if ([threshold, right, size].some((a) => a.length !== m)) fail('node arrays differ in length')
  for (const r of roots) if (!Number.isInteger(r) || r < 0 || r >= m) fail(`root ${r} out of range`)
  for (let i = 0; i < m; i++) {
    const f = feature[i]
    if (!Number.isInteger(f) || f < -1 || f >= dims) fail(`node ${i}: feature ${f} out of range`)
    if (!Number.isInteger(size[i]) || size[i] < 1) fail(`node ${i}: size ${size[i]}`)
    if (f === -1) continue
    const r = right[i]
    if (i + 1 >= m || !Number.isInteger(r) || r <= i + 1 || r >= m)
      fail(`node ${i}: children must come after it (right ${r})`)
  }
  const tables = {
    roots: Int32Array.from(roots),
    feature: Int32Array.from(feature),
    threshold: Float64Array.from(threshold),
    right: Int32Array.from(right),
    size: Int32Array.from(size),
  }
  const packed = packNodes(tables.roots, tables.feature, tables.threshold, tables.right, tables.size)
  return { trees, sampleSize, dims, featureNames: [...(names as string[])], ...tables, packed }
}
