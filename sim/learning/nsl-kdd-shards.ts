/**
 * The members' training data and the test set: KDDTrain+_20Percent split non-IID by attack family (bench/fl's
 * ten-site plan, scaled to any member count), KDDTest+ for scoring. Both are standardised with moments pooled
 * over the members' shares (what a federation can agree on), so the nodes' models take standardised inputs.
 */
import { join } from 'node:path'
import { mulberry32 } from '../../node/detect/features/prng.ts'
import { loadNslKdd, selectRows, type NslKddData } from '../../node/learning/data/nsl-kdd.ts'
import { partitionByFamily, type FamilyPlan } from '../../node/learning/data/partition.ts'
import {
  featureMoments,
  mergeFeatureMoments,
  standardizerFromMoments,
  type Standardizer,
} from '../../node/learning/model/standardizer.ts'

export const DEFAULT_NSL_KDD_DIR = join(import.meta.dirname, '..', '..', '..', 'shared', 'data', 'nsl-kdd')

export interface MemberShare {
  /** standardised features, row-major */
  x: Float32Array
  y: Uint8Array
  /** per row: the record's index in the training file (the key of its train/validation split) */
  rows: number[]
  families: string[]
}

export interface FlData {
  shares: MemberShare[]
  test: { x: Float32Array; y: Uint8Array }
  dims: number
}

const cache = new Map<string, Promise<[NslKddData, NslKddData]>>()

function load(dir: string): Promise<[NslKddData, NslKddData]> {
  let p = cache.get(dir)
  if (p === undefined) {
    p = Promise.all([loadNslKdd(join(dir, 'KDDTrain+_20Percent.txt')), loadNslKdd(join(dir, 'KDDTest+.txt'))])
    cache.set(dir, p)
    p.catch(() => cache.delete(dir))
  }
  return p
}

/**
 * bench/fl's plan for n sites: normal traffic everywhere; DoS at the first 40% of sites, probes at the next
 * 30%, R2L and U2R at the next 20%; the rest (a tenth, none below ten sites) see normal traffic only.
 */
export function familyPlan(n: number): FamilyPlan {
  const normalOnly = Math.floor(n / 10)
  const attackSites = n - normalOnly
  const dos = Math.max(1, Math.round(attackSites * (4 / 9)))
  const probe = Math.max(1, Math.round(attackSites * (3 / 9)))
  const range = (from: number, count: number) =>
    Array.from({ length: Math.max(1, count) }, (_, i) => Math.min(n - 1, from + i))
  const rest = Math.max(1, attackSites - dos - probe)
  return {
    normal: range(0, n),
    dos: range(0, dos),
    probe: range(Math.min(dos, n - 1), probe),
    r2l: range(Math.min(dos + probe, n - 1), rest),
    u2r: range(Math.min(dos + probe, n - 1), rest),
  }
}

/**
 * Which site each member gets: poisoners take attack sites spread over the families (a poisoner with only
 * normal traffic would never train, so never poison), honest members the rest in order.
 */
export function sitesForMembers(n: number, poisoners: readonly number[]): number[] {
  const normalOnly = Math.floor(n / 10)
  const attackSites = Array.from({ length: n - normalOnly }, (_, i) => i)
  const step = attackSites.length / Math.max(1, poisoners.length)
  const taken = new Set<number>()
  const site = new Array<number>(n).fill(-1)
  poisoners.forEach((m, k) => {
    let s = Math.min(attackSites.length - 1, Math.floor(k * step + step / 2))
    while (taken.has(s)) s = (s + 1) % attackSites.length
    taken.add(s)
    site[m] = s
  })
  const free = Array.from({ length: n }, (_, i) => i).filter((s) => !taken.has(s))
  for (let m = 0; m < n; m++) if (site[m] === -1) site[m] = free.shift() as number
  return site
}

function sampleIndices(seed: number, from: ArrayLike<number>, count: number): number[] {
  const all = Array.from(from)
  if (all.length <= count) return all
  const rand = mulberry32(seed)
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(rand() * (all.length - i))
    ;[all[i], all[j]] = [all[j] as number, all[i] as number]
  }
  return all.slice(0, count).sort((a, b) => a - b)
}

function standardizeInPlace(s: Standardizer, x: Float32Array, dims: number): void {
  for (let i = 0; i < x.length; i++) {
    const d = i % dims
    x[i] = ((x[i] as number) - (s.mean[d] as number)) / (s.std[d] as number)
  }
}

export async function flData(opts: {
  members: number
  poisoners: readonly number[]
  examplesPerMember: number
  testExamples?: number
  seed: number
  dir?: string
}): Promise<FlData> {
  const [train, test] = await load(opts.dir ?? DEFAULT_NSL_KDD_DIR)
  const siteRows = partitionByFamily(train.family, opts.members, familyPlan(opts.members), opts.seed)
  const site = sitesForMembers(opts.members, opts.poisoners)
  const picked = site.map((s, m) =>
    sampleIndices(opts.seed * 31 + m, siteRows[s] as Int32Array, opts.examplesPerMember),
  )
  const raw = picked.map((rows) => selectRows(train, rows))
  const st = standardizerFromMoments(mergeFeatureMoments(raw.map((d) => featureMoments(d.x, d.dims))))
  const shares = raw.map((d, m) => {
    standardizeInPlace(st, d.x, d.dims)
    return { x: d.x, y: d.y, rows: picked[m] as number[], families: d.family }
  })
  const testRows =
    opts.testExamples === undefined
      ? Array.from({ length: test.y.length }, (_, i) => i)
      : sampleIndices(
          opts.seed * 17 + 1,
          Array.from({ length: test.y.length }, (_, i) => i),
          opts.testExamples,
        )
  const t = selectRows(test, testRows)
  standardizeInPlace(st, t.x, t.dims)
  return { shares, test: { x: t.x, y: t.y }, dims: train.dims }
}
