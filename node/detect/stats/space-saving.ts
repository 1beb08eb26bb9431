import { ipv4KeyOf } from '../../ingest/parsers/ip.ts'
import { hashString } from '../features/string-hash.ts'

/**
 * Space-Saving heavy hitters (Metwally, Agrawal & El Abbadi, 2005) over k counters: any key with more than
 * total / k of the weight is guaranteed to be held, and each held count overestimates the truth by at most its
 * `error`. A new key takes over the smallest counter. Under an address flood nearly every event is such a
 * takeover, so the index is a small open-addressing table over our own string hash rather than a `Map`
 * (a takeover is then a hash, a probe and a 32-slot scan, about a third of a Map delete plus set).
 */
export interface HeavyHitter {
  key: string
  /** upper bound on the key's weight */
  count: number
  /** how much of `count` may belong to keys it displaced; count - error is a guaranteed lower bound */
  error: number
}

export class SpaceSaving {
  readonly k: number
  readonly #keys: string[]
  readonly #hashes: Int32Array
  readonly #counts: Float64Array
  readonly #errors: Float64Array
  /** open addressing, linear probing: slot + 1 per cell, 0 when empty; at least 4x k cells */
  readonly #table: Int32Array
  readonly #mask: number
  #used = 0
  total = 0

  constructor(k = 32) {
    this.k = k
    this.#keys = new Array<string>(k).fill('')
    this.#hashes = new Int32Array(k)
    this.#counts = new Float64Array(k)
    this.#errors = new Float64Array(k)
    let cells = 8
    while (cells < 4 * k) cells *= 2
    this.#table = new Int32Array(cells)
    this.#mask = cells - 1
  }

  add(key: string, weight = 1): void {
    this.total += weight
    // keys are nearly always IPv4 addresses whose number the other detectors already asked for this event
    const v4 = ipv4KeyOf(key)
    const h = v4 !== 0 ? Math.imul(v4, 0x9e3779b1) : hashString(key) | 0
    const table = this.#table
    const mask = this.#mask
    let cell = h & mask
    for (let s = table[cell]; s !== 0; s = table[(cell = (cell + 1) & mask)]) {
      if (this.#hashes[s - 1] === h && this.#keys[s - 1] === key) {
        this.#counts[s - 1] += weight
        return
      }
    }
    // `cell` is now the empty cell ending the probe run for this hash
    let slot: number
    const counts = this.#counts
    if (this.#used < this.k) {
      slot = this.#used++
      this.#errors[slot] = 0
      counts[slot] = weight
    } else {
      slot = 0
      for (let j = 1; j < counts.length; j++) if (counts[j] < counts[slot]) slot = j
      this.#unlink(slot)
      // the removal may have shifted cells: find the insertion cell again
      cell = h & mask
      while (table[cell] !== 0) cell = (cell + 1) & mask
      this.#errors[slot] = counts[slot]
      counts[slot] += weight
    }
    this.#keys[slot] = key
    this.#hashes[slot] = h
    table[cell] = slot + 1
  }

  /** held keys, heaviest first */
  top(n = this.k): HeavyHitter[] {
    const out: HeavyHitter[] = []
    for (let j = 0; j < this.#used; j++)
      out.push({ key: this.#keys[j], count: this.#counts[j], error: this.#errors[j] })
    return out.sort((a, b) => b.count - a.count).slice(0, n)
  }

  get size(): number {
    return this.#used
  }

  clear(): void {
    this.#table.fill(0)
    this.#used = 0
    this.total = 0
  }

  /** removes slot's cell with backward-shift deletion, so probe runs stay unbroken without tombstones */
  #unlink(slot: number): void {
    const table = this.#table
    const mask = this.#mask
    let cell = this.#hashes[slot] & mask
    while (table[cell] !== slot + 1) cell = (cell + 1) & mask
    let hole = cell
    for (let next = (hole + 1) & mask; table[next] !== 0; next = (next + 1) & mask) {
      const home = this.#hashes[table[next] - 1] & mask
      // move the entry back into the hole unless its home lies cyclically in (hole, next]
      const stays = hole <= next ? home > hole && home <= next : home > hole || home <= next
      if (!stays) {
        table[hole] = table[next]
        hole = next
      }
    }
    table[hole] = 0
  }
}
