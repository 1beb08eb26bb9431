/**
 * Counts what each sender had accepted in the last minute (a sliding window of timestamps, at most `limit` per
 * sender). Senders idle for a window are forgotten: `record` sweeps them out once per window, so memory stays
 * bounded by the senders of the last two windows times `limit`, however many peer ids a flooder makes up.
 */
export class SenderRateLimiter {
  readonly #windowMs: number
  readonly #limit: number
  readonly #recent = new Map<string, number[]>()
  #lastSweep = -Infinity

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

  /** Records one request from `sender` if it is still under the limit; false (nothing recorded) when it is not. */
  admit(sender: string, now: number): boolean {
    if (this.recent(sender, now) >= this.#limit) return false
    this.record(sender, now)
    return true
  }

  record(sender: string, now: number): void {
    // a clock stepped back (NTP) must not put the next sweep off until it has caught up again
    if (now - this.#lastSweep >= this.#windowMs || now < this.#lastSweep) {
      this.#lastSweep = now
      this.prune(now)
    }
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
