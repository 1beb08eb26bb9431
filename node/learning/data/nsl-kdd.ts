/**
 * Loader for NSL-KDD text files (KDDTrain+_20Percent.txt, KDDTest+.txt: 41 comma-separated fields, the attack
 * name, a difficulty level; no header) into the `nsl-kdd/1` vector (see nsl-kdd-schema.ts). Features come out
 * log-transformed but not standardised: the standardiser is fitted on training data and stored with the model.
 * A malformed line is counted and skipped, never thrown; an unseen symbolic value leaves its one-hot block zero.
 */
import { readFile } from 'node:fs/promises'
import {
  NSL_KDD_ATTACK_FAMILIES,
  NSL_KDD_DIMS,
  NSL_KDD_FEATURE_NAMES,
  NSL_KDD_FIELDS,
  NSL_KDD_FLAGS,
  NSL_KDD_LOG1P_FIELDS,
  NSL_KDD_PROTOCOLS,
  NSL_KDD_SERVICES,
  NSL_KDD_SYMBOLIC_FIELDS,
} from './nsl-kdd-schema.ts'
import type { AttackFamily } from './nsl-kdd-schema.ts'

export interface NslKddData {
  /** row-major n x NSL_KDD_DIMS */
  x: Float32Array
  /** 1 = attack, 0 = normal */
  y: Uint8Array
  attack: string[]
  family: AttackFamily[]
  /** the data set's difficulty level (how many of 21 reference learners got the record right) */
  difficulty: Uint8Array
  dims: number
  featureNames: readonly string[]
  /** malformed lines skipped */
  skipped: number
  /** symbolic values outside the vocabulary (their one-hot block left zero) */
  unknownSymbols: number
}

const FIELD_COUNT = NSL_KDD_FIELDS.length
const SYMBOLIC = new Set<string>(NSL_KDD_SYMBOLIC_FIELDS)
const NUMERIC_COLUMNS = NSL_KDD_FIELDS.flatMap((f, i) => (SYMBOLIC.has(f) ? [] : [i]))
const LOG_COLUMNS = new Set(NUMERIC_COLUMNS.filter((i) => NSL_KDD_LOG1P_FIELDS.has(NSL_KDD_FIELDS[i])))

function offsets(values: readonly string[], start: number): Map<string, number> {
  return new Map(values.map((v, i) => [v, start + i]))
}
const PROTOCOL_AT = offsets(NSL_KDD_PROTOCOLS, NUMERIC_COLUMNS.length)
const SERVICE_AT = offsets(NSL_KDD_SERVICES, NUMERIC_COLUMNS.length + NSL_KDD_PROTOCOLS.length)
const FLAG_AT = offsets(
  NSL_KDD_FLAGS,
  NUMERIC_COLUMNS.length + NSL_KDD_PROTOCOLS.length + NSL_KDD_SERVICES.length,
)

export function familyOf(attack: string): AttackFamily {
  return NSL_KDD_ATTACK_FAMILIES[attack] ?? 'unknown'
}

export function parseNslKdd(text: string): NslKddData {
  const lines = text.split(/\r?\n/)
  const rows: Float32Array[] = []
  const y: number[] = []
  const attack: string[] = []
  const family: AttackFamily[] = []
  const difficulty: number[] = []
  let skipped = 0
  let unknownSymbols = 0
  for (const line of lines) {
    if (line.trim() === '') continue
    const f = line.split(',')
    if (f.length !== FIELD_COUNT + 2) {
      skipped++
      continue
    }
    const row = new Float32Array(NSL_KDD_DIMS)
    let ok = true
    for (let k = 0; k < NUMERIC_COLUMNS.length; k++) {
      const col = NUMERIC_COLUMNS[k]
      const v = Number(f[col])
      if (f[col] === '' || !Number.isFinite(v) || (LOG_COLUMNS.has(col) && v < 0)) {
        ok = false
        break
      }
      row[k] = LOG_COLUMNS.has(col) ? Math.log1p(v) : v
    }
    const label = f[FIELD_COUNT].trim()
    const level = Number(f[FIELD_COUNT + 1])
    if (!ok || label === '' || !Number.isFinite(level)) {
      skipped++
      continue
    }
    for (const [value, at] of [
      [f[1], PROTOCOL_AT],
      [f[2], SERVICE_AT],
      [f[3], FLAG_AT],
    ] as const) {
      const i = at.get(value)
      if (i === undefined) unknownSymbols++
      else row[i] = 1
    }
    rows.push(row)
    y.push(label === 'normal' ? 0 : 1)
    attack.push(label)
    family.push(familyOf(label))
    difficulty.push(level)
  }
  const x = new Float32Array(rows.length * NSL_KDD_DIMS)
  rows.forEach((r, i) => x.set(r, i * NSL_KDD_DIMS))
  return {
    x,
    y: Uint8Array.from(y),
    attack,
    family,
    difficulty: Uint8Array.from(difficulty),
    dims: NSL_KDD_DIMS,
    featureNames: NSL_KDD_FEATURE_NAMES,
    skipped,
    unknownSymbols,
  }
}

export async function loadNslKdd(path: string): Promise<NslKddData> {
  return parseNslKdd(await readFile(path, 'utf8'))
}

/** the records at `indices`, in that order */
export function selectRows(data: NslKddData, indices: ArrayLike<number>): NslKddData {
  const d = data.dims
  const x = new Float32Array(indices.length * d)
  const pick = Array.from(indices)
  pick.forEach((r, k) => x.set(data.x.subarray(r * d, (r + 1) * d), k * d))
  return {
    ...data,
    x,
    y: Uint8Array.from(pick, (r) => data.y[r]),
    attack: pick.map((r) => data.attack[r]),
    family: pick.map((r) => data.family[r]),
    difficulty: Uint8Array.from(pick, (r) => data.difficulty[r]),
  }
}
