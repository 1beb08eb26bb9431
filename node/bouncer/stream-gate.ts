/**
 * What the node spends on long answers (the SSE change stream, CrowdSec startup pulls, whole-list queries):
 * how many may be open per token and in all, how far the server may write ahead of a client, and how long a
 * client may leave that output unread before it is cut off.
 */
export interface StreamLimits {
  /** open streams per token (or bouncer key) */
  maxPerToken: number
  /** open streams in all */
  maxTotal: number
  /** bytes the server holds for one connection before it waits for the client to read */
  bufferBytes: number
  /** a client that has not read anything for this long while output waits for it is disconnected */
  stallSeconds: number
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = {
  maxPerToken: 8,
  maxTotal: 64,
  bufferBytes: 256 * 1024,
  stallSeconds: 60,
}

/** Why a stream was refused: its token holds its share, or the node holds all it allows. */
export type StreamRefusal = { reason: 'token' | 'total'; limit: number }

export interface StreamInfo {
  readonly id: number
  readonly token: string
  readonly kind: string
  readonly openedAt: number
  /** bytes handed to the connection so far */
  readonly bytes: number
  /**
   * bytes the connection holds unsent in the server's memory now (node:http's `writableLength`); undefined
   * where the server is not node:http (in-process `app.request`)
   */
  readonly queued: number | undefined
  /** since when output has waited for the client to read; undefined while the client keeps up */
  readonly waitingSince: number | undefined
}

/** One admitted stream. The stream reports its progress; the gate may cut it off. */
export interface StreamLease extends StreamInfo {
  /** the client asked for more: it is keeping up */
  pulled(): void
  /** `bytes` were handed to the connection; output waits for the client until it asks again */
  handed(bytes: number): void
  /** resolves on a later turn of the event loop, when this stream's next chunk may be written */
  turn(): Promise<void>
  /** the stream ended or the client went away; idempotent */
  release(): void
  /** how to cut the connection when it stalls, and how much it holds unsent (set once by the stream) */
  attach(connection: { drop: () => void; queued?: () => number }): void
}

class Lease implements StreamLease {
  readonly id: number
  readonly token: string
  readonly kind: string
  readonly openedAt: number
  bytes = 0
  waitingSince: number | undefined
  released = false
  readonly #gate: StreamGate
  #drop: (() => void) | undefined
  #queued: (() => number) | undefined

  constructor(gate: StreamGate, id: number, token: string, kind: string, now: number) {
    this.#gate = gate
    this.id = id
    this.token = token
    this.kind = kind
    this.openedAt = now
    // Until it is first read, a response waits for its client like any unread output.
    this.waitingSince = now
  }

  pulled(): void {
    this.waitingSince = undefined
  }

  get queued(): number | undefined {
    return this.#queued?.()
  }

  handed(bytes: number): void {
    this.bytes += bytes
    this.waitingSince = this.#gate.now()
  }

  turn(): Promise<void> {
    return this.#gate.turn()
  }

  release(): void {
    if (this.released) return
    this.released = true
    this.#gate.forget(this)
  }

  attach(connection: { drop: () => void; queued?: () => number }): void {
    this.#drop = connection.drop
    this.#queued = connection.queued
  }

  drop(): void {
    const drop = this.#drop
    this.release()
    try {
      drop?.()
    } catch {
      // the connection is already gone
    }
  }
}

/**
 * Chunks written per turn of the event loop, over all streams. @hono/node-server asks for the next chunk as
 * soon as a write succeeds, in a chain of promises; without turns, a client with room in its socket (MBs on
 * loopback) would be written to until it filled, and with turns but no bound, 300 streams would each write a
 * chunk (a few ms) before the server read the next request, /healthz included.
 */
export const CHUNKS_PER_TURN = 8

/**
 * Admits long answers within the limits and cuts off clients that stop reading. A stall is found by a sweep
 * (on a timer, or called directly with the injected clock in tests): output has waited `stallSeconds` for a
 * client that asked for nothing more.
 */
export class StreamGate {
  readonly limits: StreamLimits
  readonly #clock: () => number
  readonly #open = new Map<number, Lease>()
  readonly #perToken = new Map<string, number>()
  #nextId = 1
  #timer: NodeJS.Timeout | undefined
  #refused = 0
  #dropped = 0
  readonly #turnWaiters: Array<() => void> = []
  #turnScheduled = false

  constructor(limits: Partial<StreamLimits> = {}, options: { clock?: () => number } = {}) {
    this.limits = { ...DEFAULT_STREAM_LIMITS, ...limits }
    for (const [name, value] of Object.entries(this.limits)) {
      if (!Number.isInteger(value) || value < 1) {
        throw new RangeError(`stream limit ${name} must be a positive integer, got ${value}`)
      }
    }
    this.#clock = options.clock ?? Date.now
  }

  now(): number {
    return this.#clock()
  }

  /** A lease for one more stream of `token`, or why not. */
  acquire(token: string, kind: string): StreamLease | StreamRefusal {
    const held = this.#perToken.get(token) ?? 0
    if (held >= this.limits.maxPerToken) {
      this.#refused++
      return { reason: 'token', limit: this.limits.maxPerToken }
    }
    if (this.#open.size >= this.limits.maxTotal) {
      this.#refused++
      return { reason: 'total', limit: this.limits.maxTotal }
    }
    const lease = new Lease(this, this.#nextId++, token, kind, this.#clock())
    this.#open.set(lease.id, lease)
    this.#perToken.set(token, held + 1)
    this.#timer ??= setInterval(() => this.sweep(), (this.limits.stallSeconds * 1000) / 4).unref()
    return lease
  }

  /** Resolves on a later turn of the event loop, at most CHUNKS_PER_TURN streams a turn, first come first. */
  turn(): Promise<void> {
    return new Promise((resolve) => {
      this.#turnWaiters.push(resolve)
      this.#scheduleTurn()
    })
  }

  #scheduleTurn(): void {
    if (this.#turnScheduled) return
    this.#turnScheduled = true
    // an immediate queued from inside an immediate runs on the next turn, after the server has polled for I/O
    setImmediate(() => {
      this.#turnScheduled = false
      for (const resolve of this.#turnWaiters.splice(0, CHUNKS_PER_TURN)) resolve()
      if (this.#turnWaiters.length > 0) this.#scheduleTurn()
    })
  }

  /** Cuts off every stream whose output has waited `stallSeconds` for its client; returns how many. */
  sweep(): number {
    const now = this.#clock()
    const limit = this.limits.stallSeconds * 1000
    let dropped = 0
    for (const lease of [...this.#open.values()]) {
      if (lease.waitingSince !== undefined && now - lease.waitingSince >= limit) {
        lease.drop()
        dropped++
      }
    }
    this.#dropped += dropped
    return dropped
  }

  forget(lease: Lease): void {
    if (!this.#open.delete(lease.id)) return
    const held = (this.#perToken.get(lease.token) ?? 1) - 1
    if (held <= 0) this.#perToken.delete(lease.token)
    else this.#perToken.set(lease.token, held)
    if (this.#open.size === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer)
      this.#timer = undefined
    }
  }

  /** The open streams, for status pages and tests. */
  streams(): StreamInfo[] {
    return [...this.#open.values()]
  }

  get counts(): { open: number; refused: number; dropped: number } {
    return { open: this.#open.size, refused: this.#refused, dropped: this.#dropped }
  }

  /** Cuts off every open stream (the node is stopping). */
  close(): void {
    for (const lease of [...this.#open.values()]) lease.drop()
  }
}

export function isRefusal(x: StreamLease | StreamRefusal): x is StreamRefusal {
  return 'reason' in x
}
