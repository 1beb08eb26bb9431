/**
 * Offset of a log's local time from UTC. BSD syslog, Apache and nginx error logs print wall-clock time
 * without an offset; by default we treat it as UTC (servers usually run in UTC, and a wrong guess shifts every
 * event of a source by the same amount, which windowed detectors barely notice). A fixed offset or an IANA
 * zone can be configured; zones are resolved through Intl once per local hour of log, not per line.
 */

const HOUR_MS = 3_600_000

export interface LocalTimeInit {
  utcOffsetMinutes?: number
  timeZone?: string
}

export class InvalidTimeZoneError extends Error {
  override name = 'InvalidTimeZoneError'
}

export class LocalTime {
  readonly #fixedMs: number
  readonly #format: Intl.DateTimeFormat | undefined
  #hourKey = Number.NaN
  #hourOffset = 0

  constructor(init: LocalTimeInit = {}) {
    this.#fixedMs = (init.utcOffsetMinutes ?? 0) * 60_000
    if (init.timeZone !== undefined && init.timeZone !== 'UTC') {
      try {
        this.#format = new Intl.DateTimeFormat('en-US', {
          timeZone: init.timeZone,
          hourCycle: 'h23',
          year: 'numeric',
          month: 'numeric',
          day: 'numeric',
          hour: 'numeric',
          minute: 'numeric',
          second: 'numeric',
        })
      } catch {
        throw new InvalidTimeZoneError(`unknown time zone ${JSON.stringify(init.timeZone)}`)
      }
    }
  }

  /** true when every offset is zero: callers may skip the call */
  get isUtc(): boolean {
    return this.#format === undefined && this.#fixedMs === 0
  }

  /** offset (ms, east positive) to subtract from a wall-clock time read as UTC (`localMs`) to get the instant */
  offsetMs(localMs: number): number {
    if (this.#format === undefined) return this.#fixedMs
    const key = Math.floor(localMs / HOUR_MS)
    if (key !== this.#hourKey) {
      this.#hourKey = key
      const guess = this.#offsetAt(localMs)
      const second = this.#offsetAt(localMs - guess)
      this.#hourOffset = second
    }
    return this.#hourOffset
  }

  #offsetAt(instant: number): number {
    const parts = this.#format!.formatToParts(new Date(instant))
    let y = 0
    let mo = 0
    let d = 0
    let h = 0
    let mi = 0
    let s = 0
    for (const p of parts) {
      if (p.type === 'year') y = Number(p.value)
      else if (p.type === 'month') mo = Number(p.value)
      else if (p.type === 'day') d = Number(p.value)
      else if (p.type === 'hour') h = Number(p.value)
      else if (p.type === 'minute') mi = Number(p.value)
      else if (p.type === 'second') s = Number(p.value)
    }
    const wall = Date.UTC(y, mo - 1, d, h, mi, s)
    return wall - Math.floor(instant / 1000) * 1000
  }
}
