import type { LocalTime } from './local-time.ts'
import {
  clockAt,
  cursor,
  DayCache,
  isDigit,
  monthAt,
  readFraction,
  readIso,
  twoDigits,
} from './timestamps.ts'
import type { YearTracker } from './year-tracker.ts'

/**
 * Reads the header of one syslog-ish line without allocating, in every shape a guarded host writes:
 * - BSD / RFC 3164 and journalctl `short`: `Dec 10 06:55:46 host prog[pid]: msg` (day padded with a space, a
 *   zero, or not at all; host optional: `Nov 23 21:50:19 sshd[8148]: ...`; `short-precise` fractions);
 * - RFC 3339 (rsyslog high precision, journalctl `short-iso`): `2024-01-01T12:00:00.123456+01:00 host prog[pid]: msg`;
 * - journalctl `short-unix`: `1704106800.123456 host prog[pid]: msg`;
 * - no timestamp (fail2ban's journal dumps, `journalctl -o with-unit` stripped): `host prog[pid]: msg`;
 * - RFC 5424: `<38>1 2019-07-08T17:40:16.954-04:00 host prog 57915 - [sd...] msg`; a `<PRI>` before any of the above.
 * Program tokens: `prog[pid]:`, `prog:`, `[prog]:`, `[prog]`.
 */
export interface SyslogHeader {
  /** epoch ms, NaN when the line carries no timestamp */
  time: number
  progStart: number
  progEnd: number
  /** -1 when absent */
  pid: number
  msgStart: number
}

export function newSyslogHeader(): SyslogHeader {
  return { time: Number.NaN, progStart: 0, progEnd: 0, pid: -1, msgStart: 0 }
}

export class SyslogHeaderReader {
  readonly #years: YearTracker
  readonly #local: LocalTime
  readonly #days = new DayCache()
  // the last `host prog[` seen, and where prog starts in it
  #prefix = ''
  #prefixLen = 0
  #progOffset = 0
  // the last `Mmm dd HH:MM:` seen and its value
  #minute = ''
  #minuteLen = 0
  #minuteMs = 0
  #minuteYear: number | undefined = undefined

  constructor(years: YearTracker, local: LocalTime) {
    this.#years = years
    this.#local = local
  }

  /** fills `out`; false when the line has no recognisable header (then `out` is unspecified) */
  read(line: string, out: SyslogHeader, forcedYear?: number): boolean {
    let i = 0
    const len = line.length
    if (len < 4) return false
    if (line.charCodeAt(0) === 60 /* < */) {
      const gt = line.indexOf('>', 1)
      if (gt < 2 || gt > 4) return false
      i = gt + 1
      if (line.charCodeAt(i) === 49 /* 1 */ && line.charCodeAt(i + 1) === 32)
        return this.#read5424(line, i + 2, out)
    }
    const c = line.charCodeAt(i)
    out.time = Number.NaN
    if (c >= 65 && c <= 90) {
      // `Mmm dd HH:MM:` changes once a minute: keep its text and value, read only the seconds per line
      let j: number // first digit of the seconds
      let minuteMs: number
      if (this.#minuteLen > 0 && forcedYear === this.#minuteYear && line.startsWith(this.#minute, i)) {
        j = i + this.#minuteLen
        minuteMs = this.#minuteMs
      } else {
        const month = monthAt(line, i)
        if (month < 0 || line.charCodeAt(i + 3) !== 32) return this.#readProgram(line, i, out)
        j = i + 4
        if (line.charCodeAt(j) === 32) j++
        let day = line.charCodeAt(j) - 48
        if (day < 0 || day > 9) return false
        j++
        const d2 = line.charCodeAt(j) - 48
        if (d2 >= 0 && d2 <= 9) {
          day = day * 10 + d2
          j++
        }
        if (line.charCodeAt(j) !== 32) return false
        const clock = clockAt(line, j + 1)
        if (clock < 0 || day < 1 || day > 31) return false
        j += 7
        minuteMs = this.#localToUtc(month, day, clock - (clock % 60_000), forcedYear)
        this.#minute = line.slice(i, j)
        this.#minuteLen = j - i
        this.#minuteMs = minuteMs
        this.#minuteYear = forcedYear
      }
      const sec = twoDigits(line, j)
      if (sec < 0 || sec > 60) return false
      const frac = readFraction(line, j + 2)
      j = cursor.end
      if (line.charCodeAt(j) !== 32) return false
      out.time = minuteMs + sec * 1000 + frac
      i = j + 1
    } else if (isDigit(c)) {
      if (line.charCodeAt(i + 4) === 45 /* - */) {
        let t = readIso(line, i, this.#days)
        if (t !== t) return false
        if (!cursor.hadOffset && !this.#local.isUtc) t -= this.#local.offsetMs(t)
        out.time = t
        i = cursor.end
      } else {
        // short-unix: seconds[.micros]
        let j = i
        let secs = 0
        while (j < len && isDigit(line.charCodeAt(j))) secs = secs * 10 + (line.charCodeAt(j++) - 48)
        if (j - i < 9 || j - i > 11) return false
        const frac = readFraction(line, j)
        out.time = secs * 1000 + frac
        i = cursor.end
      }
      if (line.charCodeAt(i) !== 32) return false
      i++
    }
    return this.#readProgram(line, i, out)
  }

  #localToUtc(month: number, day: number, msOfDay: number, forcedYear: number | undefined): number {
    const t =
      forcedYear === undefined
        ? this.#years.resolve(month, day, msOfDay)
        : this.#years.dayStart(forcedYear, month, day) + msOfDay
    return this.#local.isUtc ? t : t - this.#local.offsetMs(t)
  }

  /** `[host ]prog[pid]: ` at i */
  #readProgram(line: string, i: number, out: SyslogHeader): boolean {
    const len = line.length
    while (line.charCodeAt(i) === 32) i++
    // one file has one host and mostly one program: when `host prog[` repeats, only the pid is new
    const pl = this.#prefixLen
    if (pl > 0 && line.startsWith(this.#prefix, i)) {
      let k = i + pl
      let pid = 0
      const d0 = k
      for (let d = line.charCodeAt(k) - 48; d >= 0 && d <= 9; d = line.charCodeAt(++k) - 48)
        pid = pid * 10 + d
      if (k > d0 && line.charCodeAt(k) === 93 && line.charCodeAt(k + 1) === 58) {
        out.progStart = i + this.#progOffset
        out.progEnd = i + pl - 1
        out.pid = pid
        out.msgStart = line.charCodeAt(k + 2) === 32 ? k + 3 : k + 2
        return true
      }
    }
    const start = i
    let sp = line.indexOf(' ', i)
    if (sp === -1) sp = len
    if (!this.#programToken(line, i, sp, out)) {
      // that was the host; the program follows
      i = sp + 1
      while (line.charCodeAt(i) === 32) i++
      sp = line.indexOf(' ', i)
      if (sp === -1) sp = len
      if (!this.#programToken(line, i, sp, out)) return false
    }
    out.msgStart = sp < len ? sp + 1 : len
    if (out.pid >= 0 && line.charCodeAt(out.progEnd) === 91 && line.charCodeAt(sp - 1) === 58) {
      this.#prefix = line.slice(start, out.progEnd + 1)
      this.#prefixLen = out.progEnd + 1 - start
      this.#progOffset = out.progStart - start
    }
    return true
  }

  /** whether line[start, end) is a program token; fills prog/pid when it is */
  #programToken(line: string, start: number, end: number, out: SyslogHeader): boolean {
    if (end - start < 2) return false
    let e = end
    if (line.charCodeAt(e - 1) === 58 /* : */) e--
    else if (line.charCodeAt(e - 1) !== 93 /* ] */) return false
    if (e <= start) return false
    if (line.charCodeAt(start) === 91 /* [ */) {
      // [prog] or [prog]:
      if (line.charCodeAt(e - 1) !== 93 || e - start < 3) return false
      out.progStart = start + 1
      out.progEnd = e - 1
      out.pid = -1
      return true
    }
    if (line.charCodeAt(e - 1) === 93) {
      const open = line.lastIndexOf('[', e - 1)
      if (open <= start) return false
      let pid = 0
      for (let k = open + 1; k < e - 1; k++) {
        const d = line.charCodeAt(k) - 48
        if (d < 0 || d > 9) return false
        pid = pid * 10 + d
      }
      if (e - 1 === open + 1) return false
      out.progStart = start
      out.progEnd = open
      out.pid = pid
      return true
    }
    // prog: without pid; a host never ends with a colon
    out.progStart = start
    out.progEnd = e
    out.pid = -1
    return true
  }

  /** RFC 5424 after `<PRI>1 `: TIMESTAMP HOST APP PROCID MSGID SD MSG */
  #read5424(line: string, i: number, out: SyslogHeader): boolean {
    const len = line.length
    if (line.charCodeAt(i) === 45 /* - */) {
      out.time = Number.NaN
      i++
    } else {
      const t = readIso(line, i, this.#days)
      if (t !== t) return false
      out.time = t
      i = cursor.end
    }
    if (line.charCodeAt(i) !== 32) return false
    const hostEnd = line.indexOf(' ', i + 1)
    if (hostEnd === -1) return false
    const appEnd = line.indexOf(' ', hostEnd + 1)
    if (appEnd === -1) return false
    out.progStart = hostEnd + 1
    out.progEnd = appEnd
    const pidEnd = line.indexOf(' ', appEnd + 1)
    if (pidEnd === -1) return false
    let pid = 0
    for (let k = appEnd + 1; k < pidEnd; k++) {
      const d = line.charCodeAt(k) - 48
      if (d < 0 || d > 9) {
        pid = -1
        break
      }
      pid = pid * 10 + d
    }
    out.pid = pidEnd === appEnd + 1 ? -1 : pid
    const msgIdEnd = line.indexOf(' ', pidEnd + 1)
    if (msgIdEnd === -1) return false
    i = msgIdEnd + 1
    // structured data: `-` or one or more [id k="v" ...] elements; values may hold escaped or quoted brackets
    if (line.charCodeAt(i) === 45) i++
    else {
      while (i < len && line.charCodeAt(i) === 91) {
        let inQuote = false
        i++
        while (i < len) {
          const ch = line.charCodeAt(i)
          if (ch === 92 /* \ */) i += 2
          else {
            if (ch === 34) inQuote = !inQuote
            else if (ch === 93 && !inQuote) break
            i++
          }
        }
        i++
      }
    }
    if (line.charCodeAt(i) === 32) i++
    // an optional BOM before the message
    if (line.charCodeAt(i) === 0xfeff) i++
    out.msgStart = i
    return true
  }
}

/** whether line[start, end) names sshd (`sshd`, `sshd-session`, `sshd-auth` since OpenSSH 9.8/10) */
export function isSshdProgram(line: string, start: number, end: number): boolean {
  const n = end - start
  if (n < 4 || !line.startsWith('sshd', start)) return false
  if (n === 4) return true
  return line.charCodeAt(start + 4) === 45 && (n === 12 || n === 9) // sshd-session / sshd-auth
}
