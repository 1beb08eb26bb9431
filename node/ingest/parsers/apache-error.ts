import type { EventKind } from '../event.ts'
import { canonicalIp } from './ip.ts'
import { LocalTime } from './local-time.ts'
import { newEvent } from './new-event.ts'
import type { LineParser, ParseContext, ParseResult, ParserOptions } from './parser.ts'
import { UNPARSED } from './parser.ts'
import { newSyslogHeader, SyslogHeaderReader } from './syslog-header.ts'
import { clockAt, cursor, DayCache, fourDigits, monthAt, readFraction, twoDigits } from './timestamps.ts'
import { YearTracker } from './year-tracker.ts'

/**
 * Apache error log, 2.2 (`[Sun Dec 04 04:47:44 2005] [error] [client 1.2.3.4] msg`) and 2.4
 * (`[Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 35708:tid 4328636416] [client 1.2.3.4:54321] AH00126: msg`,
 * `[client [2001:db8::1]:54321]`, `[remote ...]` behind mod_remoteip), also through syslog (`ErrorLog syslog`).
 * Only the leading bracketed fields are read: a `[client x]` inside the message is attacker text (a requested
 * path) and must not be mistaken for the client. Client lines are `http_error`, authentication failures
 * `http_auth_failure` with the path; lines without a client are irrelevant. Local time, UTC unless configured.
 */

const AUTH: readonly RegExp[] = [
  /user (.*?): (?:authentication|authorization) failure for "([^"]*)"/y,
  /user `(.*?)' in realm `.*?' not found(?:: (\S+))?/y,
  /user (.*?): password mismatch(?:: (\S+?))?(?:,\s|\s*$)/y,
  /user (.*?) not found(?:: (\S+?))?(?:,\s|\s*$)/y,
  /Authorization of user (.*?) to access (\S+) failed/y,
  /client used wrong authentication scheme()(?:: (\S+?))?(?:,\s|\s*$)/y,
]
/** digest-auth protocol violations: someone forging or replaying credentials */
const DIGEST_PREFIXES = [
  'invalid nonce',
  'realm mismatch',
  'unknown algorithm',
  'invalid qop',
  'uri mismatch',
  'invalid opaque',
  'nonce count',
] as const
const PATH_ERRORS =
  /(?:client denied by server configuration|File does not exist|script not found or unable to stat|Directory index forbidden by Options directive|attempt to invoke directory as script|access to (?=\/)|Invalid URI in request )(?::\s*)?(\S+?)(?:,\s|\s*$)/y

export class ApacheErrorParser implements LineParser {
  readonly format: string
  readonly #source: string | undefined
  readonly #days = new DayCache()
  readonly #local: LocalTime
  readonly #reader: SyslogHeaderReader
  readonly #header = newSyslogHeader()

  constructor(options: ParserOptions = {}, format = 'apache-error') {
    this.format = format
    this.#source = options.source
    this.#local = new LocalTime({ utcOffsetMinutes: options.utcOffsetMinutes, timeZone: options.timeZone })
    this.#reader = new SyslogHeaderReader(
      options.yearTracker ?? new YearTracker({ year: options.year, reference: options.reference }),
      this.#local,
    )
  }

  parse(line: string, ctx?: ParseContext): ParseResult {
    let i: number
    let time: number
    if (line.charCodeAt(0) === 91 /* [ */) {
      // [Www Mmm dd HH:MM:SS[.ffffff] yyyy]
      const month = monthAt(line, 5)
      let day = twoDigits(line, 9)
      if (day < 0 && line.charCodeAt(9) === 32) day = line.charCodeAt(10) - 48 // space-padded day
      const clock = clockAt(line, 12)
      if (month < 0 || day < 1 || day > 31 || clock < 0 || line.charCodeAt(4) !== 32) return UNPARSED
      const frac = readFraction(line, 20)
      const y0 = cursor.end + 1
      const year = fourDigits(line, y0)
      if (year < 0 || line.charCodeAt(y0 + 4) !== 93) return UNPARSED
      time = this.#days.get(year, month, day) + clock + frac
      if (!this.#local.isUtc) time -= this.#local.offsetMs(time)
      i = y0 + 5
    } else {
      const h = this.#header
      if (!this.#reader.read(line, h, ctx?.year)) return UNPARSED
      i = h.msgStart
      if (line.charCodeAt(i) !== 91) return undefined // another program's line in the same syslog file
      time = h.time === h.time ? h.time : (ctx?.now ?? Date.now())
    }

    // leading [level] [pid ...] [client ...] [remote ...] fields
    let clientStart = -1
    let clientEnd = -1
    let remoteStart = -1
    let remoteEnd = -1
    for (;;) {
      while (line.charCodeAt(i) === 32) i++
      if (line.charCodeAt(i) !== 91) break
      let close: number
      if (line.startsWith('[client ', i) || line.startsWith('[remote ', i)) {
        const v = i + 8
        // an IPv6 client in 2.4 is `[addr]:port`
        close = line.charCodeAt(v) === 91 ? line.indexOf(']', line.indexOf(']', v) + 1) : line.indexOf(']', v)
        if (close === -1) return UNPARSED
        if (line.charCodeAt(i + 1) === 99) {
          clientStart = v
          clientEnd = close
        } else {
          remoteStart = v
          remoteEnd = close
        }
      } else {
        close = line.indexOf(']', i)
        if (close === -1) return UNPARSED
      }
      i = close + 1
    }
    if (clientStart === -1) {
      if (remoteStart === -1) return undefined
      clientStart = remoteStart
      clientEnd = remoteEnd
    }
    const ip = clientIp(line, clientStart, clientEnd)
    if (ip === undefined) return undefined

    // message, after an `AH01234: ` code and a 2.2 `Digest: ` module prefix
    let m = i
    if (line.startsWith('AH', m) && line.charCodeAt(m + 7) === 58 && line.charCodeAt(m + 8) === 32) m += 9
    if (line.startsWith('Digest: ', m)) m += 8

    let kind: EventKind = 'http_error'
    let user: string | undefined
    let path: string | undefined
    const c = line.charCodeAt(m)
    if (c === 117 /* u */ || c === 65 /* A */ || c === 99 /* c */) {
      for (const re of AUTH) {
        re.lastIndex = m
        const r = re.exec(line)
        if (r !== null) {
          kind = 'http_auth_failure'
          if (r[1] !== '') user = r[1]
          path = r[2]
          break
        }
      }
    }
    if (kind === 'http_error') {
      for (const p of DIGEST_PREFIXES) {
        if (line.startsWith(p, m)) {
          kind = 'http_auth_failure'
          break
        }
      }
    }
    if (kind === 'http_error') {
      PATH_ERRORS.lastIndex = m
      const r = PATH_ERRORS.exec(line)
      if (r !== null) path = r[1]
    }
    const ev = newEvent(time, ip, 'http', kind, ctx?.source ?? this.#source)
    if (user !== undefined) ev.user = user
    if (path !== undefined) ev.path = path
    return ev
  }
}

/** `1.2.3.4`, `1.2.3.4:54321`, `2001:db8::1`, `[2001:db8::1]:54321` */
function clientIp(line: string, start: number, end: number): string | undefined {
  if (line.charCodeAt(start) === 91) {
    const close = line.indexOf(']', start)
    return close === -1 || close > end ? undefined : canonicalIp(line, start + 1, close)
  }
  const direct = canonicalIp(line, start, end)
  if (direct !== undefined) return direct
  const colon = line.lastIndexOf(':', end - 1)
  return colon > start ? canonicalIp(line, start, colon) : undefined
}
