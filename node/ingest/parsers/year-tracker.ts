/**
 * Syslog (RFC 3164) and journalctl's short format carry month and day but no year. The tracker supplies one:
 * - it starts from a configured year, else the year of `reference` (the file's mtime when replaying a file),
 *   else the current year;
 * - lines arrive in order, so a month going backwards by more than six (Dec -> Jan) means a new year;
 * - a timestamp may never lie more than a day after the reference (the file's mtime, or now when following
 *   live): such a date belongs to the previous year (a file starting in December read in January).
 * A month going forward by more than six (a late December line after January ones) is taken as the previous
 * year for that line only.
 */

const DAY_MS = 86_400_000

export interface YearTrackerInit {
  /** the year of the first line, when known from configuration */
  year?: number
  /** ms since the epoch that no line is newer than (file mtime); absent = live, bound is the clock */
  reference?: number
  /** clock, for tests */
  now?: () => number
}

export class YearTracker {
  #year: number
  #lastMonth = -1
  #reference: number
  readonly #live: boolean
  readonly #now: () => number
  // cache of the last (year, month, day) -> epoch-day lookup: one Date.UTC per day of log, not per line
  #cacheKey = -1
  #cacheMs = 0

  constructor(init: YearTrackerInit = {}) {
    this.#now = init.now ?? Date.now
    this.#live = init.reference === undefined
    this.#reference = init.reference ?? this.#now()
    this.#year = init.year ?? new Date(this.#reference).getUTCFullYear()
  }

  /** the year the next line is assumed to be in */
  get year(): number {
    return this.#year
  }

  /** midnight UTC of (year, month 0-11, day 1-31) in ms, cached */
  dayStart(year: number, month: number, day: number): number {
    const key = year * 512 + month * 32 + day
    if (key !== this.#cacheKey) {
      this.#cacheKey = key
      this.#cacheMs = Date.UTC(year, month, day)
    }
    return this.#cacheMs
  }

  /**
   * Epoch ms of a year-less timestamp. `msOfDay` is the time of day, `offsetMs` the (already known) offset of
   * local time from UTC, subtracted from the result. Call once per line, in log order.
   */
  resolve(month: number, day: number, msOfDay: number, offsetMs = 0): number {
    let year = this.#year
    const last = this.#lastMonth
    if (last >= 0) {
      if (month < last - 6) year = this.#year = year + 1
      else if (month > last + 6) year = year - 1 // straggler from the previous year: this line only
    }
    let t = this.dayStart(year, month, day) + msOfDay - offsetMs
    if (t > this.#reference + DAY_MS) {
      if (this.#live) this.#reference = this.#now()
      if (t > this.#reference + DAY_MS) {
        if (year === this.#year) this.#year = year - 1
        year = year - 1
        t = this.dayStart(year, month, day) + msOfDay - offsetMs
      }
    }
    if (year === this.#year) this.#lastMonth = month
    return t
  }
}
