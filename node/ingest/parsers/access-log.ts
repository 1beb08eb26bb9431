import type { SecurityEvent } from '../event.ts'
import { ApacheErrorParser } from './apache-error.ts'
import { quoted, quotedEnd, request, slice, splitRequest, userAgentAt } from './http-request-line.ts'
import { canonicalIp } from './ip.ts'
import { NginxErrorParser } from './nginx-error.ts'
import { newEvent } from './new-event.ts'
import type { LineParser, ParseContext, ParseResult, ParserOptions } from './parser.ts'
import { UNPARSED } from './parser.ts'
import { clockAt, cursor, DayCache, fourDigits, monthAt, readOffset, twoDigits } from './timestamps.ts'

/**
 * nginx / Apache access logs: combined (`IP - user [10/Oct/2000:13:55:36 -0700] "GET /p HTTP/1.1" 200 2326
 * "referer" "UA"`), common (no referer/UA), vhost_combined (a leading `host:port `), and any of these with
 * extra trailing fields (nginx `"$http_x_forwarded_for"`, Traefik's CLF tail), which are ignored. Scanned with
 * indexOf/charCodeAt, no regex. The timestamp's own offset is used.
 *
 * Many setups send access and error logs to one file (CrowdSec's nginx tests do): a line that starts like an
 * nginx error log line (`2024/01/01 ...`) or an Apache error line (`[Mon Jan ...`) is handed to that parser.
 */
export class AccessLogParser implements LineParser {
  readonly format: string
  readonly #source: string | undefined
  readonly #days = new DayCache()
  readonly #options: ParserOptions
  #minute = ''
  #minuteLen = 0
  #minuteMs = 0
  #nginxError: NginxErrorParser | undefined
  #apacheError: ApacheErrorParser | undefined

  constructor(options: ParserOptions = {}, format = 'nginx') {
    this.format = format
    this.#source = options.source
    this.#options = options
  }

  parse(line: string, ctx?: ParseContext): ParseResult {
    const len = line.length
    if (len < 20) return UNPARSED
    const c0 = line.charCodeAt(0)
    if (c0 === 91 /* [ */)
      return (this.#apacheError ??= new ApacheErrorParser(this.#options)).parse(line, ctx)
    if (c0 >= 48 && c0 <= 57 && line.charCodeAt(4) === 47 /* / */)
      return (this.#nginxError ??= new NginxErrorParser(this.#options)).parse(line, ctx)

    // client address, or vhost:port then client
    let sp = line.indexOf(' ')
    if (sp === -1) return UNPARSED
    let ip = canonicalIp(line, 0, sp)
    let i = sp + 1
    if (ip === undefined) {
      sp = line.indexOf(' ', i)
      if (sp === -1) return UNPARSED
      ip = canonicalIp(line, i, sp)
      if (ip === undefined) return UNPARSED
      i = sp + 1
    }
    // ident, then user up to the time bracket
    const identEnd = line.indexOf(' ', i)
    if (identEnd === -1) return UNPARSED
    let br = line.indexOf('[', identEnd)
    while (br !== -1 && line.charCodeAt(br - 1) !== 32) br = line.indexOf('[', br + 1)
    if (br === -1) return UNPARSED
    br--
    let user: string | undefined
    if (br > identEnd + 1 && !(br === identEnd + 2 && line.charCodeAt(identEnd + 1) === 45)) {
      user = line.slice(identEnd + 1, br)
    }

    // [10/Oct/2000:13:55:36 -0700]; `10/Oct/2000:13:55:` changes once a minute: keep its text and value
    const t = br + 2
    let minuteMs: number
    if (this.#minuteLen > 0 && line.startsWith(this.#minute, t)) minuteMs = this.#minuteMs
    else {
      const day = twoDigits(line, t)
      const month = monthAt(line, t + 3)
      const year = fourDigits(line, t + 7)
      const clock = clockAt(line, t + 12)
      if (day < 1 || month < 0 || year < 0 || clock < 0 || line.charCodeAt(t + 11) !== 58) return UNPARSED
      minuteMs = this.#days.get(year, month, day) + clock - (clock % 60_000)
      this.#minute = line.slice(t, t + 18)
      this.#minuteLen = 18
      this.#minuteMs = minuteMs
    }
    const sec = twoDigits(line, t + 18)
    if (sec < 0 || sec > 60) return UNPARSED
    let j = t + 20
    let off = 0
    if (line.charCodeAt(j) === 32) {
      off = readOffset(line, j + 1)
      if (off !== off) return UNPARSED
      j = cursor.end
    }
    const time = minuteMs + sec * 1000 - off
    if (line.charCodeAt(j) !== 93 || line.charCodeAt(j + 1) !== 32 || line.charCodeAt(j + 2) !== 34)
      return UNPARSED

    // "request"
    const q0 = j + 3
    const q1 = quotedEnd(line, q0)
    if (q1 === -1) return UNPARSED
    splitRequest(line, q0, q1, quoted.hasEscapes)

    // status bytes
    j = q1 + 1
    if (line.charCodeAt(j) !== 32) return UNPARSED
    j++
    let status = 0
    let k = j
    for (; k < len; k++) {
      const d = line.charCodeAt(k) - 48
      if (d < 0 || d > 9) break
      status = status * 10 + d
    }
    if (k === j || k - j > 3) return UNPARSED
    let bytes = 0
    j = k + 1
    if (line.charCodeAt(k) === 32) {
      if (line.charCodeAt(j) === 45) j++
      else {
        for (k = j; k < len; k++) {
          const d = line.charCodeAt(k) - 48
          if (d < 0 || d > 9) break
          bytes = bytes * 10 + d
        }
        j = k
      }
    } else if (k !== len) return UNPARSED

    const ev: SecurityEvent = newEvent(time, ip, 'http', 'http_request', ctx?.source ?? this.#source)
    ev.method = request.method
    ev.path = request.path
    ev.status = status
    ev.bytes = bytes
    if (user !== undefined) ev.user = user

    // optional "referer" "user agent"
    if (line.charCodeAt(j) === 32 && line.charCodeAt(j + 1) === 34) {
      const r0 = j + 2
      const r1 = quotedEnd(line, r0)
      if (r1 !== -1) {
        if (!(r1 === r0 + 1 && line.charCodeAt(r0) === 45) && r1 > r0)
          ev.referer = slice(line, r0, r1, quoted.hasEscapes)
        if (line.charCodeAt(r1 + 1) === 32 && line.charCodeAt(r1 + 2) === 34) {
          const u0 = r1 + 3
          const u1 = quotedEnd(line, u0)
          if (u1 !== -1 && u1 > u0 && !(u1 === u0 + 1 && line.charCodeAt(u0) === 45))
            ev.userAgent = userAgentAt(line, u0, u1, quoted.hasEscapes)
        }
      }
    }
    return ev
  }
}
