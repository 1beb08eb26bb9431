import { describe, expect, it } from 'vitest'
import type { SecurityEvent } from '../event.ts'
import { ApacheErrorParser } from './apache-error.ts'
import type { ParseResult } from './parser.ts'
import { UNPARSED } from './parser.ts'

function event(r: ParseResult): SecurityEvent {
  if (r === undefined || r === UNPARSED) throw new Error(`expected an event, got ${String(r)}`)
  return r
}
const p = () => new ApacheErrorParser({ year: 2024 })

describe('ApacheErrorParser', () => {
  it('reads 2.2 lines', () => {
    const ev = event(
      p().parse(
        '[Sun Dec 04 04:47:44 2005] [error] [client 192.0.2.1] Directory index forbidden by Options directive: /var/www/html/',
      ),
    )
    expect(ev).toMatchObject({
      kind: 'http_error',
      ip: '192.0.2.1',
      service: 'http',
      path: '/var/www/html/',
      time: Date.UTC(2005, 11, 4, 4, 47, 44),
    })
    const auth = event(
      p().parse(
        '[Wed Jul 17 22:18:52 2013] [error] [client 192.0.2.2] user bob: authentication failure for "/basic/file": Password Mismatch',
      ),
    )
    expect(auth).toMatchObject({ kind: 'http_auth_failure', user: 'bob', path: '/basic/file' })
  })

  it('reads 2.4 lines with module, pid/tid, client port, fractions and AH codes', () => {
    const ev = event(
      p().parse(
        '[Sat Jul 20 21:37:32.266605 2013] [auth_basic:error] [pid 17512:tid 140123079128832] [client 192.0.2.3:51386] AH01618: user  not found: /basic/file/x.html',
      ),
    )
    expect(ev).toMatchObject({
      kind: 'http_auth_failure',
      ip: '192.0.2.3',
      user: undefined,
      path: '/basic/file/x.html',
      time: Date.UTC(2013, 6, 20, 21, 37, 32, 266),
    })
    const v6 = event(
      p().parse(
        '[Sat Jul 20 22:11:44.147674 2013] [authz_owner:error] [pid 1] [client [2001:DB8::8]:51548] AH01637: Authorization of user t to access /x failed, reason: owner',
      ),
    )
    expect(v6).toMatchObject({ kind: 'http_auth_failure', ip: '2001:db8::8', user: 't', path: '/x' })
    const digest = event(
      p().parse(
        "[Sun Jul 28 21:27:56.549667 2013] [auth_digest:error] [pid 2] [client 192.0.2.4:57052] AH01788: realm mismatch - got `a' but expected `b'",
      ),
    )
    expect(digest.kind).toBe('http_auth_failure')
    const core = event(
      p().parse(
        '[Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 35708:tid 4328636416] [client 192.0.2.5:54321] AH00126: Invalid URI in request GET /../.. HTTP/1.1',
      ),
    )
    expect(core).toMatchObject({ kind: 'http_error', ip: '192.0.2.5' })
    const remote = event(
      p().parse(
        '[Mon Nov 06 13:39:56.637868 2023] [auth_basic:error] [pid 3] [remote 192.0.2.111:35924] AH01618: user whatever not found: /admin',
      ),
    )
    expect(remote).toMatchObject({ ip: '192.0.2.111', user: 'whatever', path: '/admin' })
  })

  it('only believes the leading client field', () => {
    const ev = event(
      p().parse(
        '[Sat Jun 01 02:17:42 2013] [error] [client 192.0.2.33] File does not exist: /srv/http/site/[client 192.0.2.99] user root not found',
      ),
    )
    expect([ev.ip, ev.kind]).toEqual(['192.0.2.33', 'http_error'])
  })

  it('treats lines without a client as irrelevant and non-Apache lines as UNPARSED', () => {
    expect(
      p().parse(
        '[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok /etc/httpd/conf/workers2.properties',
      ),
    ).toBeUndefined()
    expect(
      p().parse('[Sun Dec 04 04:47:44 2005] [error] mod_jk child workerEnv in error state 6'),
    ).toBeUndefined()
    expect(p().parse('random text')).toBe(UNPARSED)
    expect(p().parse('[not a date] [error] x')).toBe(UNPARSED)
  })

  it('reads ErrorLog syslog lines', () => {
    const ev = event(
      p().parse(
        'Feb 15 16:23:00 srv httpd[22034]: [authz_core:error] [pid 22034] [client 192.0.2.1:58585] AH01630: client denied by server configuration: /home/www/',
      ),
    )
    expect(ev).toMatchObject({
      kind: 'http_error',
      ip: '192.0.2.1',
      path: '/home/www/',
      time: Date.UTC(2024, 1, 15, 16, 23),
    })
    expect(p().parse('Feb 15 16:23:00 srv CRON[1]: (root) CMD (x)')).toBeUndefined()
  })
})
