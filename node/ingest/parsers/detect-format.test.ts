import { describe, expect, it } from 'vitest'
import { detectFormat } from './detect-format.ts'

describe('detectFormat', () => {
  it('recognises each format from a few lines', () => {
    expect(
      detectFormat([
        'Dec 10 06:55:46 h sshd[1]: Invalid user a from 192.0.2.1',
        'Dec 10 06:55:47 h CRON[2]: x',
      ]),
    ).toBe('sshd')
    expect(
      detectFormat([
        '2024-01-01T12:00:00+01:00 h sshd[1]: Accepted publickey for a from 192.0.2.1 port 1 ssh2',
      ]),
    ).toBe('sshd')
    expect(
      detectFormat(['192.0.2.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 2326 "-" "x"']),
    ).toBe('nginx')
    expect(
      detectFormat([
        '2012/04/09 11:53:29 [error] 2865#0: *1 limiting requests, client: 192.0.2.1, server: x',
      ]),
    ).toBe('nginx-error')
    expect(
      detectFormat(['[Sun Dec 04 04:47:44 2005] [error] [client 192.0.2.1] File does not exist: /x']),
    ).toBe('apache-error')
    expect(
      detectFormat([
        'Feb 15 16:23:00 srv httpd[2]: [authz_core:error] [pid 2] [client 192.0.2.1:5] AH01630: x',
      ]),
    ).toBe('apache-error')
    expect(detectFormat(['{"ClientHost":"192.0.2.1","RequestMethod":"GET","RequestPath":"/"}'])).toBe(
      'traefik',
    )
    expect(detectFormat(['{"eventid":"cowrie.session.connect","src_ip":"192.0.2.1"}'])).toBe('cowrie')
    expect(detectFormat(['{"remote":"192.0.2.1","msg":"x"}'])).toBe('json')
  })

  it('calls a file mixing access and nginx error lines nginx', () => {
    expect(
      detectFormat([
        '2021/09/30 09:23:53 [error] 1#1: *17 user "foo" was not found in "/a", client: 127.0.0.1, server: _',
        '127.0.0.1 - test [06/Mar/2022:16:14:13 +0000] "POST /client HTTP/1.1" 401 141 "-" "x" "-"',
      ]),
    ).toBe('nginx')
  })

  it('gives up on noise and on empty samples', () => {
    expect(detectFormat([])).toBeUndefined()
    expect(detectFormat(['', '  '])).toBeUndefined()
    expect(detectFormat(['lorem ipsum dolor', 'sit amet', 'consectetur'])).toBeUndefined()
    expect(detectFormat(['Dec 10 06:55:47 h CRON[2]: x', 'Dec 10 06:55:48 h systemd[1]: y'])).toBeUndefined()
  })
})
