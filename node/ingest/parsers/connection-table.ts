import type { EventKind } from '../event.ts'

/**
 * What sshd's parser remembers per connection (pid), for lines that carry no address or must be read together:
 * the client address, a pam failure waiting for sshd's own "Failed ..." line, and a failure waiting for the
 * address. A direct-mapped table indexed by `pid & mask`: no hashing, no allocation per connection, and memory
 * is bounded by construction (a new pid landing on a busy slot evicts the old one; pids are sequential, so
 * concurrent connections rarely collide).
 */
export class ConnectionTable {
  readonly #mask: number
  readonly #pids: Int32Array
  readonly #ips: (string | undefined)[]
  readonly #pamUsers: (string | undefined)[]
  readonly #pamPending: Uint8Array
  readonly #pendingKinds: (EventKind | undefined)[]
  readonly #pendingTimes: Float64Array

  constructor(size = 4096) {
    let n = 1
    while (n < size) n <<= 1
    this.#mask = n - 1
    this.#pids = new Int32Array(n).fill(-1)
    this.#ips = new Array<string | undefined>(n).fill(undefined)
    this.#pamUsers = new Array<string | undefined>(n).fill(undefined)
    this.#pamPending = new Uint8Array(n)
    this.#pendingKinds = new Array<EventKind | undefined>(n).fill(undefined)
    this.#pendingTimes = new Float64Array(n)
  }

  /** the slot tracking `pid`, or -1 */
  find(pid: number): number {
    const slot = pid & this.#mask
    return this.#pids[slot] === pid ? slot : -1
  }

  /** the slot for `pid`, taking it over (cleared) from whatever pid held it */
  claim(pid: number): number {
    const slot = pid & this.#mask
    if (this.#pids[slot] !== pid) {
      this.#pids[slot] = pid
      this.#ips[slot] = undefined
      this.#pamUsers[slot] = undefined
      this.#pamPending[slot] = 0
      this.#pendingKinds[slot] = undefined
      this.#pendingTimes[slot] = 0
    }
    return slot
  }

  ip(slot: number): string | undefined {
    return this.#ips[slot]
  }

  setIp(slot: number, ip: string): void {
    this.#ips[slot] = ip
  }

  pamPending(slot: number): boolean {
    return this.#pamPending[slot] === 1
  }

  pamUser(slot: number): string | undefined {
    return this.#pamUsers[slot]
  }

  setPam(slot: number, pending: boolean, user: string | undefined): void {
    this.#pamPending[slot] = pending ? 1 : 0
    this.#pamUsers[slot] = user
  }

  clearPam(slot: number): void {
    this.#pamPending[slot] = 0
  }

  pendingKind(slot: number): EventKind | undefined {
    return this.#pendingKinds[slot]
  }

  pendingTime(slot: number): number {
    return this.#pendingTimes[slot]
  }

  setPending(slot: number, kind: EventKind | undefined, time: number): void {
    this.#pendingKinds[slot] = kind
    this.#pendingTimes[slot] = time
  }
}
