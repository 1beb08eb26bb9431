/**
 * Counts what each sender had accepted in the last minute (a sliding window of timestamps, at most `limit` per
 * sender, so memory is bounded by senders x limit). Senders idle for a minute are forgotten.
 */
export class SenderRateLimiter {
  readonly #windowMs: number
  readonly #limit: number
  readonly #recent = new Map<string, number[]>()

  constructor(limit: number, windowMs = 60_000) {
    this.#limit = limit
    this.#windowMs = windowMs
  }

  /** How many messages this sender had accepted within the window ending at `now`. */
  recent(sender: string, now: number): number {
    const times = this.#recent.get(sender)
    if (times === undefined) return 0
    while (times.length > 0 && times[0] <= now - this.#windowMs) times.shift()
    if (times.length === 0) this.#recent.delete(sender)
    return times.length
  }

  record(sender: string, now: number): void {
    let times = this.#recent.get(sender)
    if (times === undefined) {
      times = []
      this.#recent.set(sender, times)
    }
    times.push(now)
    if (times.length > this.#limit) times.shift()
  }

  prune(now: number): void {
    for (const sender of this.#recent.keys()) this.recent(sender, now)
  }

  get senders(): number {
    return this.#recent.size
  }
}
