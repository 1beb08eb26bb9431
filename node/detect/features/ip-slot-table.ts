import { detach } from '../scenarios/detach-string.ts'
import { formatIpv4, ipv4KeyOf } from '../../ingest/parsers/ip.ts'

/**
 * Addresses to small integer slots, kept in insertion order and capped, for per-address windows: `BoundedLru`'s
 * order and eviction behaviour (an entry moves to the back only when its owner says so; a full table drops its
 * front entry), without a string-keyed `Map`. Canonical IPv4 text is keyed by its 32-bit value in an
 * open-addressing table, so a lookup hashes no freshly sliced string and the table keeps no string that pins the
 * chunk of log text it was sliced from; the text is rebuilt from the number when a finding needs it. Anything
 * else (IPv6) goes to a Map under a detached copy. Owners keep their per-address state in arrays indexed by slot.
 */

const MIN_SLOTS = 256
const NONE = -1

export class IpSlotTable {
  readonly maxSize: number
  readonly #onEvict: ((slot: number) => void) | undefined
  /** per slot: IPv4 key, or 0 for an address held in `#strings` */
  #keys = new Int32Array(MIN_SLOTS)
  #strings: (string | undefined)[] = []
  readonly #byString = new Map<string, number>()
  /** insertion-order list through the slots */
  #next = new Int32Array(MIN_SLOTS)
  #prev = new Int32Array(MIN_SLOTS)
  #head = NONE
  #tail = NONE
  /** unused slots below `#top`, chained through `#next` */
  #free = NONE
  #top = 0
  /** open addressing over IPv4 keys, linear probing: slot + 1 per cell, 0 when empty; at most half full */
  #cells = new Int32Array(MIN_SLOTS * 2)
  #shift = 32 - Math.log2(MIN_SLOTS * 2)
  #size = 0
  #evictions = 0

  /** `onEvict(slot)` runs when a full table drops its oldest entry, before the slot is handed out again. */
  constructor(maxSize: number, onEvict?: (slot: number) => void) {
    if (!Number.isInteger(maxSize) || maxSize < 1)
      throw new RangeError(`maxSize must be a positive integer, got ${maxSize}`)
    this.maxSize = maxSize
    this.#onEvict = onEvict
  }

  get size(): number {
    return this.#size
  }

  /** entries dropped to stay within `maxSize` (explicit removals are not counted) */
  get evictions(): number {
    return this.#evictions
  }

  /** The slot of `ip`, or -1. Does not touch the order. */
  find(ip: string): number {
    const key = ipv4KeyOf(ip)
    if (key === 0) return this.#byString.get(ip) ?? NONE
    const cells = this.#cells
    const mask = cells.length - 1
    for (let c = Math.imul(key, 0x9e3779b1) >>> this.#shift; ; c = (c + 1) & mask) {
      const s = cells[c]
      if (s === 0) return NONE
      if (this.#keys[s - 1] === key) return s - 1
    }
  }

  /** Adds `ip` (known to be absent) at the back, first dropping the front entry when the table is full. */
  add(ip: string): number {
    if (this.#size >= this.maxSize) {
      const oldest = this.#head
      this.#evictions++
      this.#onEvict?.(oldest)
      this.remove(oldest)
    }
    let slot = this.#free
    if (slot !== NONE) this.#free = this.#next[slot]
    else {
      slot = this.#top++
      if (slot === this.#keys.length) this.#grow()
    }
    const key = ipv4KeyOf(ip)
    this.#keys[slot] = key
    if (key === 0) {
      this.#strings[slot] = detach(ip)
      this.#byString.set(this.#strings[slot] as string, slot)
    } else {
      this.#place(key, slot)
    }
    this.#link(slot)
    this.#size++
    return slot
  }

  /** Moves `slot` to the back of the order. */
  moveToBack(slot: number): void {
    if (slot === this.#tail) return
    this.#unlink(slot)
    this.#link(slot)
  }

  remove(slot: number): void {
    const key = this.#keys[slot]
    if (key === 0) {
      this.#byString.delete(this.#strings[slot] as string)
      this.#strings[slot] = undefined
    } else {
      this.#unplace(key, slot)
    }
    this.#unlink(slot)
    this.#next[slot] = this.#free
    this.#free = slot
    this.#size--
  }

  /** the front (oldest) slot, or -1 */
  oldest(): number {
    return this.#head
  }

  /** the slot after `slot` in order, or -1 */
  after(slot: number): number {
    return this.#next[slot]
  }

  /** The address of `slot`, as text. IPv4 text is rebuilt: call it when a result needs the address. */
  ipOf(slot: number): string {
    const key = this.#keys[slot]
    return key === 0 ? (this.#strings[slot] as string) : formatIpv4(key)
  }

  clear(): void {
    while (this.#head !== NONE) this.remove(this.#head)
  }

  #link(slot: number): void {
    this.#prev[slot] = this.#tail
    this.#next[slot] = NONE
    if (this.#tail === NONE) this.#head = slot
    else this.#next[this.#tail] = slot
    this.#tail = slot
  }

  #unlink(slot: number): void {
    const p = this.#prev[slot]
    const n = this.#next[slot]
    if (p === NONE) this.#head = n
    else this.#next[p] = n
    if (n === NONE) this.#tail = p
    else this.#prev[n] = p
  }

  #place(key: number, slot: number): void {
    const cells = this.#cells
    const mask = cells.length - 1
    let c = Math.imul(key, 0x9e3779b1) >>> this.#shift
    while (cells[c] !== 0) c = (c + 1) & mask
    cells[c] = slot + 1
  }

  /** backward-shift deletion, so probe runs stay unbroken without tombstones */
  #unplace(key: number, slot: number): void {
    const cells = this.#cells
    const mask = cells.length - 1
    const shift = this.#shift
    let hole = Math.imul(key, 0x9e3779b1) >>> shift
    while (cells[hole] !== slot + 1) hole = (hole + 1) & mask
    for (let next = (hole + 1) & mask; cells[next] !== 0; next = (next + 1) & mask) {
      const home = Math.imul(this.#keys[cells[next] - 1], 0x9e3779b1) >>> shift
      // move the entry back into the hole unless its home lies cyclically in (hole, next]
      const stays = hole <= next ? home > hole && home <= next : home > hole || home <= next
      if (!stays) {
        cells[hole] = cells[next]
        hole = next
      }
    }
    cells[hole] = 0
  }

  #grow(): void {
    const n = this.#keys.length * 2
    const widen = (a: Int32Array) => {
      const b = new Int32Array(n)
      b.set(a)
      return b
    }
    this.#keys = widen(this.#keys)
    this.#next = widen(this.#next)
    this.#prev = widen(this.#prev)
    this.#cells = new Int32Array(n * 2)
    this.#shift = 32 - Math.log2(n * 2)
    // the table grows only when no slot is free, so every slot below the new one is live
    for (let s = 0; s < this.#top - 1; s++) if (this.#keys[s] !== 0) this.#place(this.#keys[s], s)
  }
}
