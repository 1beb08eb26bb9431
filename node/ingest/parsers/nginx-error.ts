import type { EventKind } from '../event.ts'
import { quotedEnd, request, splitRequest } from './http-request-line.ts'
import { canonicalIp } from './ip.ts'
import { LocalTime } from './local-time.ts'
import { newEvent } from './new-event.ts'
import type { LineParser, ParseContext, ParseResult, ParserOptions } from './parser.ts'
import { UNPARSED } from './parser.ts'
import { clockAt, DayCache, fourDigits, twoDigits } from './timestamps.ts'

/**
 * nginx error log: `2012/04/09 11:53:29 [error] 2865#0: *66647 <message>, client: 1.2.3.4, server: x,
 * request: "GET / HTTP/1.1", host: "x"`. Also when wrapped by syslog / the journal (`host nginx[1]: 2023/12/09 ...`).
 * Lines naming a client are events: basic-auth / PAM failures are `http_auth_failure`, limit_req / limit_conn
 * throttling (`limiting requests`, `limiting connections`, `delaying request`) is `http_rate_limited`, everything
 * else (SSL handshake garbage, forbidden, upstream errors) is `http_error`. Lines without a client
 * (`[notice] signal process started`) are irrelevant. Times carry no offset: local time, UTC unless configured.
 *
 * nginx does not escape what it logs: a user name or a URI in the message can contain `, client: 6.6.6.6`, and
 * so can the referrer after the real client. With several candidates we take the first whose remainder is a
 * well-formed nginx tail (`, server: x[, key: "value"]*`), falling back to the last.
 */

const STAMP = /(\d{4})\/(\d\d)\/(\d\d) (\d\d):(\d\d):(\d\d) \[/g
const TAIL = /, client: [^,\s]+, server: [^,\s]*(?:, [a-z_]+: "[^"]*")*\s*$/y
const CLIENT = ', client: '

export class NginxErrorParser implements LineParser {
  readonly format: string
  readonly #source: string | undefined
  readonly #days = new DayCache()
  readonly #local: LocalTime

  constructor(options: ParserOptions = {}, format = 'nginx-error') {
    this.format = format
    this.#source = options.source
    this.#local = new LocalTime({ utcOffsetMinutes: options.utcOffsetMinutes, timeZone: options.timeZone })
  }

  parse(line: string, ctx?: ParseContext): ParseResult {
    let s = 0
    if (!(line.charCodeAt(4) === 47 && line.charCodeAt(7) === 47 && line.charCodeAt(10) === 32)) {
      // syslog / journal wrapped: find the nginx stamp inside
      STAMP.lastIndex = 0
      const m = STAMP.exec(line)
      if (m === null) return UNPARSED
      s = m.index
    }
    const y = fourDigits(line, s)
    const mo = twoDigits(line, s + 5)
    const d = twoDigits(line, s + 8)
    const clock = clockAt(line, s + 11)
    if (
      y < 0 ||
      mo < 1 ||
      mo > 12 ||
      d < 1 ||
      clock < 0 ||
      line.charCodeAt(s + 19) !== 32 ||
      line.charCodeAt(s + 20) !== 91
    )
      return UNPARSED
    const levelEnd = line.indexOf('] ', s + 21)
    if (levelEnd === -1) return UNPARSED

    // which ", client: " is nginx's own
    let c = line.indexOf(CLIENT, levelEnd)
    if (c === -1) return undefined
    const last = line.lastIndexOf(CLIENT)
    if (last !== c) {
      let chosen = last
      for (let k = c; k !== -1; k = line.indexOf(CLIENT, k + 1)) {
        TAIL.lastIndex = k
        if (TAIL.test(line)) {
          chosen = k
          break
        }
      }
      c = chosen
    }
    const ipStart = c + CLIENT.length
    let ipEnd = line.indexOf(',', ipStart)
    if (ipEnd === -1) ipEnd = line.length
    const ip = canonicalIp(line, ipStart, ipEnd)
    if (ip === undefined) return undefined

    let time = this.#days.get(y, mo - 1, d) + clock
    if (!this.#local.isUtc) time -= this.#local.offsetMs(time)

    // message: after "PID#TID: " and an optional "*CID "
    let m = line.indexOf(': ', levelEnd)
    m = m === -1 || m > c ? levelEnd + 2 : m + 2
    if (line.charCodeAt(m) === 42 /* * */) {
      const sp = line.indexOf(' ', m)
      if (sp !== -1 && sp < c) m = sp + 1
    }

    let kind: EventKind = 'http_error'
    let user: string | undefined
    if (line.startsWith('user "', m)) {
      const notFound = line.indexOf('" was not found in "', m + 6)
      const mismatch = line.indexOf('": password mismatch', m + 6)
      const end =
        notFound !== -1 && notFound < c && (mismatch === -1 || notFound < mismatch)
          ? notFound
          : mismatch !== -1 && mismatch < c
            ? mismatch
            : -1
      if (end !== -1) {
        kind = 'http_auth_failure'
        user = line.slice(m + 6, end)
      }
    } else if (
      line.startsWith('limiting requests, excess', m) ||
      line.startsWith('limiting connections by zone', m) ||
      line.startsWith('delaying request, excess', m)
    ) {
      kind = 'http_rate_limited'
    } else if (line.startsWith('no user/password was provided for basic authentication', m)) {
      kind = 'http_auth_failure'
    } else if (line.startsWith('PAM: user ', m)) {
      kind = 'http_auth_failure'
      const q = line.charCodeAt(m + 10)
      if (q === 39 || q === 34) {
        const close = line.indexOf(String.fromCharCode(q), m + 11)
        if (close !== -1 && close < c) user = line.slice(m + 11, close)
      }
    }

    const ev = newEvent(time, ip, 'http', kind, ctx?.source ?? this.#source)
    if (user !== undefined) ev.user = user
    const rq = line.indexOf(', request: "', ipEnd)
    if (rq !== -1) {
      const r0 = rq + 12
      const r1 = quotedEnd(line, r0)
      if (r1 !== -1) {
        splitRequest(line, r0, r1, false)
        ev.method = request.method
        ev.path = request.path
      }
    }
    return ev
  }
}
