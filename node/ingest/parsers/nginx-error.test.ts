import { describe, expect, it } from 'vitest'
import type { SecurityEvent } from '../event.ts'
import { NginxErrorParser } from './nginx-error.ts'
import type { ParseResult } from './parser.ts'
import { UNPARSED } from './parser.ts'

function event(r: ParseResult): SecurityEvent {
  if (r === undefined || r === UNPARSED) throw new Error(`expected an event, got ${String(r)}`)
  return r
}
const p = () => new NginxErrorParser()
const T = '2024/04/09 11:53:29 [error] 2865#0: *66647 '

describe('NginxErrorParser', () => {
  it('reports basic-auth failures with user, method and path', () => {
    const nf = event(
      p().parse(
        T +
          'user "xyz" was not found in "/etc/nginx/.htpasswd", client: 192.0.2.1, server: www, request: "GET /admin HTTP/1.1", host: "www"',
      ),
    )
    expect(nf).toMatchObject({
      kind: 'http_auth_failure',
      ip: '192.0.2.1',
      user: 'xyz',
      method: 'GET',
      path: '/admin',
      service: 'http',
    })
    expect(nf.time).toBe(Date.UTC(2024, 3, 9, 11, 53, 29))
    const mm = event(
      p().parse(
        T +
          'user "x y": password mismatch, client: 192.0.2.2, server: , request: "POST / HTTP/1.1", host: "h"',
      ),
    )
    expect(mm).toMatchObject({ kind: 'http_auth_failure', user: 'x y', method: 'POST' })
    const none = event(
      p().parse(
        T +
          'no user/password was provided for basic authentication, client: 192.0.2.3, server: s, request: "GET / HTTP/1.1"',
      ),
    )
    expect(none.kind).toBe('http_auth_failure')
    const pam = event(
      p().parse(
        T + "PAM: user 'bob' - not authenticated: Authentication failure, client: 192.0.2.4, server: s",
      ),
    )
    expect(pam).toMatchObject({ kind: 'http_auth_failure', user: 'bob' })
  })

  it('reports rate limiting as http_rate_limited and other client lines as http_error, IPv6 included', () => {
    const lr = event(
      p().parse(
        T +
          'limiting requests, excess: 5.428 by zone "z", client: ::1, server: , request: "GET / HTTP/1.1", host: "h"',
      ),
    )
    expect(lr).toMatchObject({ kind: 'http_rate_limited', ip: '::1', path: '/' })
    const lc = event(
      p().parse(
        T + 'limiting connections by zone "c", client: 192.0.2.8, server: s, request: "GET /.env HTTP/1.1"',
      ),
    )
    expect(lc).toMatchObject({ kind: 'http_rate_limited', path: '/.env' })
    const delay = event(
      p().parse(
        '2025/08/01 04:24:17 [warn] 4772#4772: *68 delaying request, excess: 0.841, by zone "r", client: 192.0.2.9, server: s',
      ),
    )
    expect(delay.kind).toBe('http_rate_limited')
    const ssl = event(
      p().parse(
        '2020/11/25 14:42:16 [crit] 7#7: *2 SSL_do_handshake() failed (SSL: error) while SSL handshaking, client: 2001:DB8::9, server: 0.0.0.0:443',
      ),
    )
    expect(ssl).toMatchObject({ kind: 'http_error', ip: '2001:db8::9', method: undefined })
  })

  it('ignores lines without a client, rejects lines that are not nginx error lines', () => {
    expect(p().parse('2024/04/09 11:53:29 [notice] 1#1: signal process started')).toBeUndefined()
    expect(p().parse('192.0.2.1 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 1')).toBe(UNPARSED)
    expect(p().parse('garbage')).toBe(UNPARSED)
  })

  it('is not fooled by ", client: " injected before or after the real one', () => {
    const before = event(
      p().parse(
        T +
          'open() "/var/www/a, client: 6.6.6.6, server: x" failed (2: No such file or directory), client: 192.0.2.5, server: s, request: "GET /a HTTP/1.1", host: "h"',
      ),
    )
    expect(before.ip).toBe('192.0.2.5')
    const after = event(
      p().parse(
        T +
          'access forbidden by rule, client: 192.0.2.6, server: s, request: "GET / HTTP/1.1", host: "h", referrer: "x, client: 6.6.6.6, server: y"',
      ),
    )
    expect(after.ip).toBe('192.0.2.6')
  })

  it('reads lines wrapped by syslog or the journal, and local time offsets', () => {
    const j = event(
      new NginxErrorParser({ utcOffsetMinutes: 60 }).parse(
        'host nginx[9]: host nginx: 2023/12/09 21:35:20 [error] 9#9: *3 user "u" was not found in "/x", client: 192.0.2.3, server: h',
      ),
    )
    expect(j).toMatchObject({
      kind: 'http_auth_failure',
      ip: '192.0.2.3',
      time: Date.UTC(2023, 11, 9, 20, 35, 20),
    })
  })
})
