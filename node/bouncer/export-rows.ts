import { indicatorContains, parseIndicator, type Indicator } from '../../protocol/indicator.ts'
import type { BlockEntry, BlocklistView, BlockOrigin } from '../blocklist/block-entry.ts'
import { timeoutOf, type ExportOptions, type ExportRow, type ExportRows } from '../blocklist/exporters.ts'
import type { DecisionSnapshot, SnapshotRead } from './decision-snapshot.ts'

/**
 * The rows of a firewall export (node/blocklist/exporters.ts) read from the node's shared snapshot, so that a
 * hundred clients exporting a 110,000-entry list share one sorted copy of it instead of each parsing, sorting and
 * formatting its own (tens of MB apiece). Per export it holds one bit per snapshot entry (14 KB for 110,000) and
 * the few entries added since the snapshot; the values are looked up again as they are written.
 */

/** A snapshot's values in export order (family, address, prefix), parsed once into packed arrays. */
interface SortedSnapshot {
  /** snapshot positions in export order; values that do not parse (never in a real list) left out */
  order: Uint32Array
  /** where IPv6 begins in `order` */
  v6Start: number
  family: Uint8Array
  prefix: Uint8Array
  /** 16 bytes per position, an IPv4 address in the first 4 */
  bytes: Uint8Array
}

/** Built once per snapshot; exports that start while it is being built wait for the same one. */
const sortedSnapshots = new WeakMap<DecisionSnapshot, Promise<SortedSnapshot>>()

/**
 * Entries looked up (or parsed) per turn of the event loop while an export is counted: each lookup builds the
 * entry (a few µs), and up to CHUNKS_PER_TURN exports take their turn in the same one, so that /healthz and the
 * rest are read in between.
 */
export const EXPORT_COUNT_SLICE = 500

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

function sortSnapshot(snapshot: DecisionSnapshot): Promise<SortedSnapshot> {
  let sorted = sortedSnapshots.get(snapshot)
  if (sorted === undefined) {
    sorted = buildSorted(snapshot)
    sortedSnapshots.set(snapshot, sorted)
  }
  return sorted
}

async function buildSorted(snapshot: DecisionSnapshot): Promise<SortedSnapshot> {
  const { values } = snapshot
  const n = values.length
  const family = new Uint8Array(n)
  const prefix = new Uint8Array(n)
  const bytes = new Uint8Array(n * 16)
  const valid: number[] = []
  for (let i = 0; i < n; i++) {
    if (i > 0 && i % (EXPORT_COUNT_SLICE * 4) === 0) await nextTurn()
    let indicator: Indicator
    try {
      indicator = parseIndicator(values[i])
    } catch {
      continue
    }
    family[i] = indicator.family
    prefix[i] = indicator.prefix
    bytes.set(indicator.bytes, i * 16)
    valid.push(i)
  }
  const order = Uint32Array.from(valid).sort((a, b) => {
    if (family[a] !== family[b]) return family[a] - family[b]
    for (let k = 0; k < 16; k++) {
      const d = bytes[a * 16 + k] - bytes[b * 16 + k]
      if (d !== 0) return d
    }
    return prefix[a] - prefix[b]
  })
  let v6Start = order.length
  for (let i = 0; i < order.length; i++) {
    if (family[order[i]] === 6) {
      v6Start = i
      break
    }
  }
  return { order, v6Start, family, prefix, bytes }
}

/** The sort of exporters.ts's prepareEntries. */
function compare(a: Indicator, b: Indicator): number {
  if (a.family !== b.family) return a.family - b.family
  for (let i = 0; i < a.bytes.length; i++) if (a.bytes[i] !== b.bytes[i]) return a.bytes[i] - b.bytes[i]
  return a.prefix - b.prefix
}

/** One value in export order: a snapshot position (>= 0) or an entry added since (`added`). */
interface Candidate {
  indicator: Indicator
  position: number
  added?: BlockEntry
}

export interface SnapshotExportOptions extends ExportOptions {
  /** only entries of this origin */
  origin?: BlockOrigin
}

/**
 * Counts what an export of `read` at `options.now` will hold (its header states it first), a slice per turn of
 * the event loop, then returns rows that write exactly those entries, in the order and with the covered ones left
 * out as `prepareEntries` does. An entry removed between counting and writing is still written, so that the
 * file holds what its header says; with timeouts it gets one second (the firewall forgets it at once), and the
 * next export leaves it out. Resolves undefined if `aborted()` turns true meanwhile (the client went away).
 */
export async function snapshotExportRows(
  read: SnapshotRead,
  view: BlocklistView,
  options: SnapshotExportOptions,
  aborted: () => boolean = () => false,
): Promise<ExportRows | undefined> {
  const snapshot = read.snapshot
  const sorted = await sortSnapshot(snapshot)
  if (aborted()) return undefined
  const now = options.now ?? Number.NEGATIVE_INFINITY
  const added: Candidate[] = []
  for (const entry of read.added(now)) {
    if (options.origin !== undefined && entry.origin !== options.origin) continue
    try {
      added.push({ indicator: parseIndicator(entry.value), position: -1, added: entry })
    } catch {
      // never in a real list
    }
  }
  added.sort((a, b) => compare(a.indicator, b.indicator))

  function* candidates(family: 4 | 6): Generator<Candidate> {
    const { order, v6Start } = sorted
    const end = family === 4 ? v6Start : order.length
    let next = 0
    while (next < added.length && added[next].indicator.family < family) next++
    for (let i = family === 4 ? 0 : v6Start; i < end; i++) {
      const position = order[i]
      const at = position * 16
      const indicator: Indicator = {
        family,
        bytes: sorted.bytes.subarray(at, at + (family === 4 ? 4 : 16)),
        prefix: sorted.prefix[position],
        canonical: snapshot.values[position],
        isRange: sorted.prefix[position] < (family === 4 ? 32 : 128),
      }
      while (
        next < added.length &&
        added[next].indicator.family === family &&
        compare(added[next].indicator, indicator) < 0
      ) {
        yield added[next++]
      }
      yield { indicator, position }
    }
    while (next < added.length && added[next].indicator.family === family) yield added[next++]
  }

  const kept = new Uint8Array(Math.ceil(snapshot.values.length / 8))
  const keptAdded = new Set<Candidate>()
  const counts = { 4: 0, 6: 0 }
  let covered = 0
  let cover: Indicator | undefined
  let looked = 0
  for (const family of [4, 6] as const) {
    for (const candidate of candidates(family)) {
      if (++looked % EXPORT_COUNT_SLICE === 0) {
        await nextTurn()
        if (aborted()) return undefined
      }
      if (candidate.position >= 0) {
        const entry = view.get(candidate.indicator.canonical)
        if (entry === undefined || entry.id !== snapshot.ids[candidate.position] || entry.expiresAt <= now)
          continue
        if (options.origin !== undefined && entry.origin !== options.origin) continue
      }
      // sorted by address then prefix, ranges are nested or disjoint: only the last kept range can cover the next
      if (cover !== undefined && indicatorContains(cover, candidate.indicator)) {
        covered++
        continue
      }
      if (candidate.position >= 0) kept[candidate.position >> 3] |= 1 << (candidate.position & 7)
      else keptAdded.add(candidate)
      counts[family]++
      cover = candidate.indicator
    }
  }

  function* rows(family: 4 | 6): Generator<ExportRow> {
    for (const candidate of candidates(family)) {
      const { position } = candidate
      if (position >= 0 ? (kept[position >> 3] & (1 << (position & 7))) === 0 : !keptAdded.has(candidate)) {
        continue
      }
      const { canonical: value, prefix } = candidate.indicator
      let timeout: number | undefined
      if (options.timeouts) {
        const entry = candidate.added ?? view.get(value)
        timeout = entry === undefined ? 1 : timeoutOf(entry.expiresAt, options)
      }
      yield timeout === undefined ? { value, family, prefix } : { value, family, prefix, timeout }
    }
  }

  return { v4: counts[4], v6: counts[6], covered, rows }
}
