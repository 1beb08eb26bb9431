import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import type { SecurityEvent } from '../event.ts'
import { AccessLogParser } from './access-log.ts'
import type { ParseResult } from './parser.ts'
import { UNPARSED } from './parser.ts'

const fixture = (name: string) =>
  readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')
    .split('\n')
    .filter((l) => l !== '')

function event(r: ParseResult): SecurityEvent {
  if (r === undefined || r === UNPARSED) throw new Error(`expected an event, got ${String(r)}`)
  return r
}

describe('AccessLogParser', () => {
  it('reads the combined format with the timestamp offset', () => {
    const ev = event(
      new AccessLogParser().parse(
        '192.0.2.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif?a=1 HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"',
      ),
    )
    expect(ev).toMatchObject({
      time: Date.UTC(2000, 9, 10, 20, 55, 36),
      ip: '192.0.2.1',
      service: 'http',
      kind: 'http_request',
      user: 'frank',
      method: 'GET',
      path: '/apache_pb.gif?a=1',
      status: 200,
      bytes: 2326,
      referer: 'http://www.example.com/start.html',
      userAgent: 'Mozilla/4.08 [en] (Win98; I ;Nav)',
    })
  })

  it('reads the common format, `-` bytes, absent referer/UA and extra trailing fields', () => {
    const p = new AccessLogParser()
    const common = event(
      p.parse('192.0.2.2 - - [29/Sep/2021:12:37:05 +0000] "GET /start.php?lang=x HTTP/1.1" 404 196'),
    )
    expect(common).toMatchObject({
      status: 404,
      bytes: 196,
      user: undefined,
      referer: undefined,
      userAgent: undefined,
    })
    const dash = event(
      p.parse('192.0.2.2 - - [29/Sep/2021:12:37:05 +0000] "POST /login HTTP/1.1" 302 - "-" "-"'),
    )
    expect(dash).toMatchObject({ method: 'POST', bytes: 0, referer: undefined, userAgent: undefined })
    const extra = event(
      p.parse(
        '10.0.0.2 - u [18/Nov/2018:21:34:30 +0000] "GET /dashboard/ HTTP/2.0" 401 17 "-" "UA" 72 "Auth for x" "/dashboard/" 0ms',
      ),
    )
    expect(extra).toMatchObject({ status: 401, userAgent: 'UA', user: 'u' })
  })

  it('handles IPv6 clients and vhost_combined (fixture)', () => {
    const p = new AccessLogParser()
    const evs = fixture('ipv6-access.txt').map((l) => event(p.parse(l)))
    expect(
      evs.map((e) => [e.ip, e.method, e.path, e.status, e.user, new Date(e.time).toISOString()]),
    ).toEqual([
      ['2001:db8::1', 'GET', '/index.html', 200, undefined, '2025-01-01T00:00:01.000Z'],
      ['2001:db8::1:0:0:1', 'POST', '/login', 401, 'admin', '2024-12-31T23:00:02.000Z'],
      ['192.0.2.77', 'HEAD', '/', 200, undefined, '2025-01-01T05:00:03.000Z'],
      ['2001:db8::abcd', 'GET', '/robots.txt', 404, undefined, '2025-01-01T00:00:04.000Z'],
    ])
  })

  it('keeps malformed requests as events and rejects broken lines (fixture)', () => {
    const p = new AccessLogParser()
    const [tls, dash, escaped, noBytes, noise, unterminated, json] = fixture('malformed-access.txt').map(
      (l) => p.parse(l),
    )
    expect(event(tls)).toMatchObject({
      method: undefined,
      path: '\\x16\\x03\\x01\\x00\\xee\\x01\\x00\\x00',
      status: 400,
    })
    expect(event(dash)).toMatchObject({ method: undefined, path: '-', status: 408 })
    expect(event(escaped)).toMatchObject({
      method: 'GET',
      path: '/a"b',
      status: 404,
      userAgent: 'evil "quoted" agent',
    })
    expect(event(noBytes)).toMatchObject({ status: 200, bytes: 0 })
    expect(noise).toBe(UNPARSED)
    expect(unterminated).toBe(UNPARSED)
    expect(json).toBe(UNPARSED)
  })

  it('hands nginx and Apache error lines mixed into the file to their parsers', () => {
    const p = new AccessLogParser()
    const ng = event(
      p.parse(
        '2021/09/30 09:23:53 [error] 1925800#1925800: *17 user "foo" was not found in "/tmp/a.htpasswd", client: 192.0.2.9, server: _, request: "GET / HTTP/1.1", host: "localhost"',
      ),
    )
    expect([ng.kind, ng.ip, ng.user]).toEqual(['http_auth_failure', '192.0.2.9', 'foo'])
    const ap = event(
      p.parse('[Wed Jul 17 22:32:48 2013] [error] [client 192.0.2.10] user bob not found: /basic/file'),
    )
    expect([ap.kind, ap.ip, ap.path]).toEqual(['http_auth_failure', '192.0.2.10', '/basic/file'])
  })

  it('interns common methods and keeps unusual ones', () => {
    const p = new AccessLogParser()
    expect(
      event(p.parse('192.0.2.1 - - [10/Oct/2000:13:55:36 +0000] "PROPFIND / HTTP/1.1" 207 1')).method,
    ).toBe('PROPFIND')
    expect(
      event(p.parse('192.0.2.1 - - [10/Oct/2000:13:55:36 +0000] "FOOBAR / HTTP/1.1" 405 1')).method,
    ).toBe('FOOBAR')
    expect(
      event(p.parse('192.0.2.1 - - [10/Oct/2000:13:55:36 +0000] "get / HTTP/1.1" 400 1')).method,
    ).toBeUndefined()
  })
})
