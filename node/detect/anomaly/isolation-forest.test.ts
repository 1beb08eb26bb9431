import { describe, expect, it } from 'vitest'
import { gaussian, mulberry32 } from '../features/prng.ts'
import { forestFromJson, forestToJson } from './forest-json.ts'
import { averagePathLength, explain, fitIsolationForest, score, screen } from './isolation-forest.ts'

const DIMS = 5
const NAMES = ['alpha', 'beta', 'gamma', 'delta', 'epsilon']

function blob(seed: number, n: number): Float64Array[] {
  const rand = mulberry32(seed)
  return Array.from({ length: n }, () => Float64Array.from({ length: DIMS }, () => gaussian(rand)))
}

describe('isolation forest', () => {
  const inliers = blob(1, 2000)
  // far off in most dimensions; see below for the weaker case of one extreme feature
  const outliers = [
    Float64Array.from([8, 8, 8, 8, 8]),
    Float64Array.from([-7, 6, 5, -6, 7]),
    Float64Array.from([6, -6, 6, -6, 6]),
    Float64Array.from([-8, -8, 0, 8, 8]),
  ]
  const model = fitIsolationForest([...inliers, ...outliers], {
    trees: 100,
    sampleSize: 256,
    seed: 7,
    featureNames: NAMES,
  })

  it('normalises path lengths with c(n) as the paper defines it', () => {
    expect(averagePathLength(1)).toBe(0)
    expect(averagePathLength(2)).toBe(1)
    // 2 H(255) - 2 * 255 / 256 with H(i) ~ ln i + gamma
    expect(averagePathLength(256)).toBeCloseTo(2 * (Math.log(255) + 0.5772156649) - (2 * 255) / 256, 9)
  })

  it('scores far outliers above 0.6 and points of a Gaussian blob below 0.55', () => {
    for (const x of outliers) expect(score(model, x)).toBeGreaterThan(0.6)
    const fresh = blob(99, 500) // unseen points from the same distribution
    const scores = fresh.map((x) => score(model, x)).sort((a, b) => a - b)
    expect(scores[Math.floor(scores.length / 2)]).toBeLessThan(0.5)
    // every point within 2 sigma of the centre
    const core = fresh.filter((x) => Math.hypot(...x) < 2)
    expect(core.length).toBeGreaterThan(100)
    for (const x of core) expect(score(model, x)).toBeLessThan(0.55)
  })

  it('screens: the exact score for anything near the threshold, the same verdict for everything', () => {
    for (const x of outliers) expect(screen(model, x, 0.65)).toBeCloseTo(score(model, x), 12)
    for (const x of [...inliers, ...blob(5, 500)]) {
      const s = score(model, x)
      expect(screen(model, x, 0.6) >= 0.6).toBe(s >= 0.6)
    }
  })

  it('is deterministic for a seed and differs across seeds', () => {
    const again = fitIsolationForest([...inliers, ...outliers], {
      trees: 100,
      sampleSize: 256,
      seed: 7,
      featureNames: NAMES,
    })
    expect(forestToJson(again)).toEqual(forestToJson(model))
    const other = fitIsolationForest([...inliers, ...outliers], {
      trees: 100,
      sampleSize: 256,
      seed: 8,
      featureNames: NAMES,
    })
    expect(forestToJson(other)).not.toEqual(forestToJson(model))
  })

  it('names the feature that was made anomalous', () => {
    const centre = score(model, new Float64Array(DIMS))
    for (let f = 0; f < DIMS; f++) {
      const x = new Float64Array(DIMS)
      x[f] = 9
      // A point extreme in one of five features is only isolated by the fifth of the splits that use it: it
      // scores well above the centre of the blob but near 0.5, a known limit of axis-parallel isolation.
      expect(score(model, x)).toBeGreaterThan(centre + 0.08)
      const why = explain(model, x)
      expect(why[0].feature).toBe(NAMES[f])
      expect(why[0].contribution).toBeGreaterThan(0.4)
      expect(why.reduce((s, c) => s + c.contribution, 0)).toBeCloseTo(1, 9)
    }
  })

  it('survives a JSON round trip and rejects a tampered node table', () => {
    const json = JSON.parse(JSON.stringify(forestToJson(model)))
    const back = forestFromJson(json)
    for (const x of [...outliers, ...inliers.slice(0, 50)]) expect(score(back, x)).toBe(score(model, x))
    const split = json.feature.findIndex((f: number) => f !== -1)
    const cyclic = { ...json, right: [...json.right] }
    cyclic.right[split] = split // a node pointing at itself would loop forever
    expect(() => forestFromJson(cyclic)).toThrow(expect.objectContaining({ name: 'InvalidForestError' }))
    const shared = { ...json, right: [...json.right] }
    const second = json.feature.findIndex((f: number, i: number) => i > split && f !== -1)
    shared.right[second] = json.right[split] // two parents for one subtree
    expect(() => forestFromJson(shared)).toThrow(expect.objectContaining({ name: 'InvalidForestError' }))
    expect(() => forestFromJson({ ...json, version: 2 })).toThrow(
      expect.objectContaining({ name: 'InvalidForestError' }),
    )
  })

  it('copes with constant features and tiny samples', () => {
    const flat = Array.from({ length: 50 }, (_, i) => Float64Array.from([1, 1, i % 5]))
    const m = fitIsolationForest(flat, { trees: 10, seed: 1 })
    expect(m.sampleSize).toBe(50)
    expect(score(m, Float64Array.from([1, 1, 2]))).toBeLessThan(0.6)
    expect(Number.isFinite(score(fitIsolationForest([Float64Array.from([1])], { seed: 1 }), [1]))).toBe(true)
    expect(() => fitIsolationForest([])).toThrow(expect.objectContaining({ name: 'InvalidForestError' }))
  })
})
