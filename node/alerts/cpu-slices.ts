/** CPU one drain may use before the event loop gets a turn (API requests, timers, other peers' streams). */
export const DEFAULT_SLICE_MS = 8
/** work items waiting at most; beyond it new work is refused rather than queued behind a backlog */
export const DEFAULT_MAX_PENDING = 20_000

export class SlicesFullError extends Error {
  override name = 'SlicesFullError'
}

/**
 * Runs expensive synchronous work (signature verifications) in slices of at most `sliceMs`, one slice per turn
 * of the event loop. A burst of messages arriving together would otherwise be verified back to back in one
 * turn, and `/healthz`, the bouncer endpoint and detection would wait for all of them.
 */
export class CpuSlices {
  readonly #sliceMs: number
  readonly #maxPending: number
  #queue: Array<() => void> = []
  #head = 0
  #scheduled = false

  constructor(sliceMs = DEFAULT_SLICE_MS, maxPending = DEFAULT_MAX_PENDING) {
    this.#sliceMs = sliceMs
    this.#maxPending = maxPending
  }

  /** Queues `work`; it runs in a later turn, in order. Rejects with SlicesFullError when the queue is full. */
  run<T>(work: () => T): Promise<T> {
    if (this.pending >= this.#maxPending) {
      return Promise.reject(new SlicesFullError(`${this.pending} items already waiting`))
    }
    return new Promise<T>((resolve, reject) => {
      this.#queue.push(() => {
        try {
          resolve(work())
        } catch (err) {
          reject(err)
        }
      })
      if (!this.#scheduled) {
        this.#scheduled = true
        setImmediate(this.#drain)
      }
    })
  }

  get pending(): number {
    return this.#queue.length - this.#head
  }

  readonly #drain = (): void => {
    this.#scheduled = false
    const start = performance.now()
    while (this.#head < this.#queue.length) {
      const work = this.#queue[this.#head]
      this.#queue[this.#head++] = noop
      work()
      if (performance.now() - start >= this.#sliceMs) break
    }
    if (this.#head === this.#queue.length) {
      this.#queue = []
      this.#head = 0
    } else {
      if (this.#head > 1024) {
        this.#queue = this.#queue.slice(this.#head)
        this.#head = 0
      }
      this.#scheduled = true
      setImmediate(this.#drain)
    }
  }
}

function noop(): void {}
