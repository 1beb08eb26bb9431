/**
 * charCode-level timestamp readers shared by the parsers. None allocates; calendar math goes through a one-entry
 * day cache so `Date.UTC` runs once per day of log rather than once per line.
 */

export const HOUR_MS = 3_600_000
export const MINUTE_MS = 60_000

/** 0-11 for an English three-letter month abbreviation at s[i], else -1 (case-sensitive first letter) */
export function monthAt(s: string, i: number): number {
  const a = s.charCodeAt(i)
  const b = s.charCodeAt(i + 1) | 0x20
  const c = s.charCodeAt(i + 2) | 0x20
  switch (a) {
    case 74: // J
      if (b === 97 && c === 110) return 0 // Jan
      if (b === 117 && c === 110) return 5 // Jun
      if (b === 117 && c === 108) return 6 // Jul
      return -1
    case 70: // F
      return b === 101 && c === 98 ? 1 : -1 // Feb
    case 77: // M
      if (b === 97 && c === 114) return 2 // Mar
      if (b === 97 && c === 121) return 4 // May
      return -1
    case 65: // A
      if (b === 112 && c === 114) return 3 // Apr
      if (b === 117 && c === 103) return 7 // Aug
      return -1
    case 83: // S
      return b === 101 && c === 112 ? 8 : -1 // Sep
    case 79: // O
      return b === 99 && c === 116 ? 9 : -1 // Oct
    case 78: // N
      return b === 111 && c === 118 ? 10 : -1 // Nov
    case 68: // D
      return b === 101 && c === 99 ? 11 : -1 // Dec
    default:
      return -1
  }
}

export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57
}

/** two ASCII digits at s[i] as a number, or -1 */
export function twoDigits(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48
  const b = s.charCodeAt(i + 1) - 48
  if (a < 0 || a > 9 || b < 0 || b > 9) return -1
  return a * 10 + b
}

export function fourDigits(s: string, i: number): number {
  const hi = twoDigits(s, i)
  const lo = twoDigits(s, i + 2)
  return hi < 0 || lo < 0 ? -1 : hi * 100 + lo
}

/** `HH:MM:SS` at s[i] as ms of day, or -1 */
export function clockAt(s: string, i: number): number {
  const h = twoDigits(s, i)
  const m = twoDigits(s, i + 3)
  const sec = twoDigits(s, i + 6)
  if (h < 0 || m < 0 || sec < 0 || s.charCodeAt(i + 2) !== 58 || s.charCodeAt(i + 5) !== 58) return -1
  if (h > 23 || m > 59 || sec > 60) return -1
  return h * HOUR_MS + m * MINUTE_MS + sec * 1000
}

/** One-entry cache of midnight UTC for (year, month 0-11, day). */
export class DayCache {
  #key = -1
  #ms = 0
  get(year: number, month: number, day: number): number {
    const key = year * 512 + month * 32 + day
    if (key !== this.#key) {
      this.#key = key
      this.#ms = Date.UTC(year, month, day)
    }
    return this.#ms
  }
}

/**
 * Where the last `readFraction` / `readOffset` / `readIso` call stopped, and whether `readIso` saw an explicit
 * offset; a module-level cursor avoids a result object per call.
 */
export const cursor = { end: 0, hadOffset: false }

/** `.123456` or `,123` at s[i]: returns ms (truncated) and sets cursor.end; 0 and end = i when absent */
export function readFraction(s: string, i: number): number {
  const c = s.charCodeAt(i)
  if (c !== 46 && c !== 44) {
    cursor.end = i
    return 0
  }
  let j = i + 1
  let ms = 0
  let scale = 100
  while (j < s.length && isDigit(s.charCodeAt(j))) {
    if (scale >= 1) ms += (s.charCodeAt(j) - 48) * scale
    scale /= 10
    j++
  }
  cursor.end = j
  return j === i + 1 ? 0 : Math.floor(ms)
}

/**
 * `Z`, `+HH:MM`, `+HHMM` or `+HH` at s[i]: offset in ms east of UTC, cursor.end set past it.
 * Returns NaN (cursor.end = i) when none is present.
 */
export function readOffset(s: string, i: number): number {
  const c = s.charCodeAt(i)
  if (c === 90 || c === 122) {
    cursor.end = i + 1
    return 0
  }
  if (c !== 43 && c !== 45) {
    cursor.end = i
    return Number.NaN
  }
  const h = twoDigits(s, i + 1)
  if (h < 0) {
    cursor.end = i
    return Number.NaN
  }
  let m = 0
  let end = i + 3
  if (s.charCodeAt(end) === 58) {
    m = twoDigits(s, end + 1)
    if (m < 0) {
      cursor.end = i
      return Number.NaN
    }
    end += 3
  } else {
    const m2 = twoDigits(s, end)
    if (m2 >= 0) {
      m = m2
      end += 2
    }
  }
  cursor.end = end
  const off = h * HOUR_MS + m * MINUTE_MS
  return c === 45 ? -off : off
}

/**
 * ISO 8601 / RFC 3339 timestamp at s[i] (`2024-01-01T12:00:00.123456+01:00`, space instead of `T`, offset
 * optional). Returns epoch ms (local times without offset taken as UTC; `cursor.hadOffset` tells), NaN when the text
 * is not one. cursor.end is set past it.
 */
export function readIso(s: string, i: number, days: DayCache): number {
  const y = fourDigits(s, i)
  if (y < 0 || s.charCodeAt(i + 4) !== 45 || s.charCodeAt(i + 7) !== 45) return Number.NaN
  const mo = twoDigits(s, i + 5)
  const d = twoDigits(s, i + 8)
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return Number.NaN
  const sep = s.charCodeAt(i + 10)
  if (sep !== 84 && sep !== 32 && sep !== 116) return Number.NaN
  const clock = clockAt(s, i + 11)
  if (clock < 0) return Number.NaN
  const frac = readFraction(s, i + 19)
  const off = readOffset(s, cursor.end)
  cursor.hadOffset = off === off
  return days.get(y, mo - 1, d) + clock + frac - (off === off ? off : 0)
}

const jsonDays = new DayCache()

/** ISO string -> epoch ms; falls back to Date.parse for unusual shapes. NaN when unparseable. */
export function isoToMs(s: string): number {
  const t = readIso(s, 0, jsonDays)
  if (t === t) return t
  return Date.parse(s)
}
