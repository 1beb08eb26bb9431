import { ipv4KeyOf } from '../../ingest/parsers/ip.ts'
import { detach } from './detach-string.ts'

/**
 * Which slot holds an address's state: `GenerationalCache`'s bounded two-generation scheme (the old generation
 * is dropped whole when the young one fills half the budget; a hit in the old one moves the entry to the young
 * one), with the same eviction behaviour entry for entry, mapping addresses to small integer ids.
 *
 * Canonical IPv4 text, nearly every address in real logs, is keyed by its 32-bit value in an open-addressing
 * table of int32 pairs (key, id): no hashing of a freshly sliced string, no allocation, one cache line per
 * lookup, and no stored key that pins the chunk of log text it was sliced from. Anything else (IPv6,
 * non-canonical text) goes to a Map under a detached copy of its key.
 */

const MIN_SLOTS = 1024
/** an id slot whose entry moved to the young generation */
const MOVED = -1

class Generation {
  /** slot s holds key `pairs[2s]` (0: empty) and id `pairs[2s + 1]` (MOVED: gone) */
  pairs: Int32Array
  mask: number
  shift: number
  /** occupied slots, moved-away ones included (they still lengthen probes) */
  used = 0
  /** entries present, in the table and the map */
  live = 0
  readonly strings = new Map<string, number>()

  constructor(slots: number) {
    this.pairs = new Int32Array(slots * 2)
    this.mask = slots - 1
    this.shift = 32 - Math.log2(slots)
  }
}

/** Slot of `key` in `g`, or -1. */
function find(g: Generation, key: number): number {
  const pairs = g.pairs
  let s = Math.imul(key, 0x9e3779b1) >>> g.shift
  for (;;) {
    const k = pairs[s << 1]
    if (k === key) return s
    if (k === 0) return -1
    s = (s + 1) & g.mask
  }
}

/** Adds `key`, known to be absent from `g`. */
function add(g: Generation, key: number, id: number): void {
  if ((g.used + 1) * 2 > g.mask + 1) grow(g)
  place(g, key, id)
  g.used++
  g.live++
}

function place(g: Generation, key: number, id: number): void {
  const pairs = g.pairs
  let s = Math.imul(key, 0x9e3779b1) >>> g.shift
  while (pairs[s << 1] !== 0) s = (s + 1) & g.mask
  pairs[s << 1] = key
  pairs[(s << 1) + 1] = id
}

function grow(g: Generation): void {
  const old = g.pairs
  const slots = (g.mask + 1) * 2
  g.pairs = new Int32Array(slots * 2)
  g.mask = slots - 1
  g.shift = 32 - Math.log2(slots)
  g.used = 0
  for (let j = 0; j < old.length; j += 2) {
    if (old[j] === 0 || old[j + 1] === MOVED) continue
    place(g, old[j], old[j + 1])
    g.used++
  }
}

export class GenerationalIpIndex {
  readonly maxSize: number
  readonly #onEvict: (id: number) => void
  #young = new Generation(MIN_SLOTS)
  #old = new Generation(MIN_SLOTS)
  #evictions = 0

  /** `onEvict` is called with the id of every entry dropped to stay within `maxSize`. */
  constructor(maxSize: number, onEvict: (id: number) => void) {
    if (!Number.isInteger(maxSize) || maxSize < 2)
      throw new RangeError(`maxSize must be an integer >= 2, got ${maxSize}`)
    this.maxSize = maxSize
    this.#onEvict = onEvict
  }

  /** The id of `ip`, or -1. */
  get(ip: string): number {
    const key = ipv4KeyOf(ip)
    if (key === 0) return this.#getString(ip)
    const young = this.#young
    const y = find(young, key)
    if (y !== -1) return young.pairs[(y << 1) + 1]
    const old = this.#old
    const o = find(old, key)
    if (o === -1) return -1
    const id = old.pairs[(o << 1) + 1]
    if (id === MOVED) return -1
    old.pairs[(o << 1) + 1] = MOVED
    old.live--
    this.#rotateIfFull()
    add(this.#young, key, id)
    return id
  }

  /** Adds or replaces; ids are non-negative. */
  set(ip: string, id: number): void {
    const key = ipv4KeyOf(ip)
    if (key === 0) return this.#setString(ip, id)
    const young = this.#young
    const y = find(young, key)
    if (y !== -1) {
      young.pairs[(y << 1) + 1] = id
      return
    }
    const old = this.#old
    const o = find(old, key)
    if (o !== -1 && old.pairs[(o << 1) + 1] !== MOVED) {
      old.pairs[(o << 1) + 1] = MOVED
      old.live--
    }
    this.#rotateIfFull()
    add(this.#young, key, id)
  }

  #getString(ip: string): number {
    const young = this.#young.strings.get(ip)
    if (young !== undefined) return young
    const oldGen = this.#old
    const old = oldGen.strings.get(ip)
    if (old === undefined) return -1
    oldGen.strings.delete(ip)
    oldGen.live--
    this.#rotateIfFull()
    this.#young.strings.set(detach(ip), old)
    this.#young.live++
    return old
  }

  #setString(ip: string, id: number): void {
    const young = this.#young
    if (young.strings.has(ip)) {
      young.strings.set(ip, id)
      return
    }
    if (this.#old.strings.delete(ip)) this.#old.live--
    this.#rotateIfFull()
    this.#young.strings.set(detach(ip), id)
    this.#young.live++
  }

  #rotateIfFull(): void {
    if (this.#young.live < this.maxSize >> 1) return
    const dropped = this.#old
    this.#evictions += dropped.live
    this.#old = this.#young
    this.#young = new Generation(MIN_SLOTS)
    const pairs = dropped.pairs
    for (let j = 0; j < pairs.length; j += 2)
      if (pairs[j] !== 0 && pairs[j + 1] !== MOVED) this.#onEvict(pairs[j + 1])
    for (const id of dropped.strings.values()) this.#onEvict(id)
  }

  get size(): number {
    return this.#young.live + this.#old.live
  }

  /** entries dropped to stay within `maxSize` */
  get evictions(): number {
    return this.#evictions
  }
}
