import type { Indicator } from '../../protocol/indicator.ts'
import type { BlockEntry, BlockOrigin } from './block-entry.ts'
import { Interner } from './interner.ts'

/**
 * Reporters kept in memory per entry: enough to show who vouched for a block at a glance (and for callers
 * that check one peer among a handful); the full list stays on disk and comes back with `details()`.
 */
export const HELD_REPORTERS = 4

const ORIGINS: readonly BlockOrigin[] = ['local', 'community', 'manual']
const ORIGIN_CODE: Record<BlockOrigin, number> = { local: 0, community: 1, manual: 2 }
const ORIGIN_MASK = 0b11
const RANGE = 0b100
const IPV6 = 0b1000
const USED = 0b1000_0000

const ORIGIN_SUMMARY: Record<BlockOrigin, string> = {
  local: "blocked by this node's detectors",
  community: 'blocked on weighed community reports',
  manual: 'blocked by an administrator',
}

const INITIAL_CAPACITY = 1024
const F64 = 4
const ID = 0
const CREATED = 1
const EXPIRES = 2
const SCORE = 3
const U32 = 4 + HELD_REPORTERS
const OFFENCE = 0
const SCENARIO = 1
const META = 2
const ADDR4 = 3
const REPORTERS = 4
const MAX_COUNT = 0xffff
const NO_REPORTERS: readonly string[] = Object.freeze([])

/** What the table keeps of an entry: everything but the reasons, and at most HELD_REPORTERS reporters. */
export type SlimInput = Pick<
  BlockEntry,
  'id' | 'origin' | 'scenario' | 'score' | 'reporters' | 'createdAt' | 'expiresAt' | 'offence'
>

/**
 * Active blocklist entries in two typed arrays, one slot per entry: numbers as numbers, scenarios and
 * reporters as interned ids, IPv4 values as their 32-bit address and prefix length (IPv6 values, a small
 * share, as text). A slot's fields sit side by side (F64 doubles, then U32 words: two cache lines to rebuild
 * an entry on a lookup hit) in 64 bytes, against some 250 for a BlockEntry object with its strings and
 * arrays, and nothing for the garbage collector to trace. `entry(slot)` rebuilds a BlockEntry on demand; its
 * `reasons` is a one-line summary shared by every entry of the same origin and scenario.
 */
export class EntryTable {
  #cap = 0
  /** slots below this have been handed out at least once */
  #high = 0
  readonly #free: number[] = []
  #size = 0
  /** per slot: id, createdAt, expiresAt, score */
  #f64 = new Float64Array(0)
  /** per slot: offence, scenario id, meta (flags | prefix << 8 | reporter count << 16), IPv4 address, reporters */
  #u32 = new Uint32Array(0)
  readonly #v6 = new Map<number, string>()
  readonly #scenarios = new Interner()
  readonly #peers = new Interner()
  /** frozen one-line reasons, at scenario id * 3 + origin code */
  readonly #summaries: (readonly string[] | undefined)[] = []

  get size(): number {
    return this.#size
  }

  /** Bytes held by the columns (the interned strings and IPv6 texts aside). */
  get footprint(): number {
    return this.#cap * (F64 * 8 + U32 * 4)
  }

  /** Stores an entry under its parsed value; returns its slot. */
  put(indicator: Indicator, entry: SlimInput): number {
    const slot = this.#free.pop() ?? this.#next()
    const f = slot * F64
    this.#f64[f + ID] = entry.id
    this.#f64[f + CREATED] = entry.createdAt
    this.#f64[f + EXPIRES] = entry.expiresAt
    this.#f64[f + SCORE] = entry.score
    const u = slot * U32
    const u32 = this.#u32
    u32[u + OFFENCE] = entry.offence
    u32[u + SCENARIO] = this.#scenarios.acquire(entry.scenario)
    let flags = USED | (ORIGIN_CODE[entry.origin] ?? ORIGIN_CODE.manual)
    if (indicator.isRange) flags |= RANGE
    if (indicator.family === 4) {
      const b = indicator.bytes
      u32[u + ADDR4] = ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0
    } else {
      flags |= IPV6
      this.#v6.set(slot, indicator.canonical)
    }
    const reporters = entry.reporters
    u32[u + META] = (flags | (indicator.prefix << 8) | (Math.min(reporters.length, MAX_COUNT) << 16)) >>> 0
    for (let i = 0; i < HELD_REPORTERS; i++) {
      u32[u + REPORTERS + i] = i < reporters.length ? this.#peers.acquire(reporters[i]) : 0
    }
    this.#size++
    return slot
  }

  /** Forgets a slot's entry and lets the slot be reused. */
  free(slot: number): void {
    if (!this.used(slot)) return
    const u = slot * U32
    const scenario = this.#u32[u + SCENARIO]
    if (this.#scenarios.release(scenario)) {
      for (let o = 0; o < 3; o++) this.#summaries[scenario * 3 + o] = undefined
    }
    for (let i = 0; i < HELD_REPORTERS; i++) this.#peers.release(this.#u32[u + REPORTERS + i])
    if (this.#u32[u + META] & IPV6) this.#v6.delete(slot)
    this.#u32[u + META] = 0
    this.#free.push(slot)
    this.#size--
  }

  used(slot: number): boolean {
    return slot < this.#high && (this.#u32[slot * U32 + META] & USED) !== 0
  }

  id(slot: number): number {
    return this.#f64[slot * F64 + ID]
  }

  expiresAt(slot: number): number {
    return this.#f64[slot * F64 + EXPIRES]
  }

  createdAt(slot: number): number {
    return this.#f64[slot * F64 + CREATED]
  }

  offence(slot: number): number {
    return this.#u32[slot * U32 + OFFENCE]
  }

  origin(slot: number): BlockOrigin {
    return ORIGINS[this.#u32[slot * U32 + META] & ORIGIN_MASK]
  }

  /** The canonical value, as protocol/indicator.ts spells it. */
  value(slot: number): string {
    const u = slot * U32
    const meta = this.#u32[u + META]
    if (meta & IPV6) return this.#v6.get(slot) as string
    const a = this.#u32[u + ADDR4]
    const text = `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`
    const prefix = (meta >>> 8) & 0xff
    return prefix === 32 ? text : `${text}/${prefix}`
  }

  /** A fresh BlockEntry for the slot, reasons summarised and reporters capped at HELD_REPORTERS. */
  entry(slot: number): BlockEntry {
    const f = slot * F64
    const u = slot * U32
    const meta = this.#u32[u + META]
    const origin = ORIGINS[meta & ORIGIN_MASK]
    const scenarioId = this.#u32[u + SCENARIO]
    return {
      id: this.#f64[f + ID],
      value: this.value(slot),
      scope: meta & RANGE ? 'range' : 'ip',
      type: 'ban',
      origin,
      scenario: this.#scenarios.name(scenarioId),
      score: this.#f64[f + SCORE],
      reasons: this.#summary(scenarioId, meta & ORIGIN_MASK, origin) as string[],
      reporters: this.#reportersOf(u, meta >>> 16) as string[],
      createdAt: this.#f64[f + CREATED],
      expiresAt: this.#f64[f + EXPIRES],
      offence: this.#u32[u + OFFENCE],
    }
  }

  /** Slots in use, in slot order. Safe against frees of slots already passed. */
  *slots(): Generator<number> {
    for (let slot = 0; slot < this.#high; slot++) if (this.#u32[slot * U32 + META] & USED) yield slot
  }

  #summary(scenarioId: number, code: number, origin: BlockOrigin): readonly string[] {
    const at = scenarioId * 3 + code
    let summary = this.#summaries[at]
    if (summary === undefined) {
      summary = Object.freeze([`${this.#scenarios.name(scenarioId)}: ${ORIGIN_SUMMARY[origin]}`])
      this.#summaries[at] = summary
    }
    return summary
  }

  #reportersOf(u: number, total: number): readonly string[] {
    const count = Math.min(total, HELD_REPORTERS)
    if (count === 0) return NO_REPORTERS
    const out: string[] = []
    for (let i = 0; i < count; i++) out.push(this.#peers.name(this.#u32[u + REPORTERS + i]))
    return out
  }

  #next(): number {
    if (this.#high === this.#cap) this.#grow(Math.max(INITIAL_CAPACITY, Math.ceil(this.#cap * 1.5)))
    return this.#high++
  }

  #grow(cap: number): void {
    const f64 = new Float64Array(cap * F64)
    f64.set(this.#f64)
    this.#f64 = f64
    const u32 = new Uint32Array(cap * U32)
    u32.set(this.#u32)
    this.#u32 = u32
    this.#cap = cap
  }
}
