import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import type { SecurityEvent } from '../event.ts'
import type { ParseResult } from './parser.ts'
import { UNPARSED } from './parser.ts'
import { SshdParser } from './sshd.ts'

const fixture = (name: string) =>
  readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')
    .split('\n')
    .filter((l) => l !== '')

function event(r: ParseResult): SecurityEvent {
  if (r === undefined || r === UNPARSED) throw new Error(`expected an event, got ${String(r)}`)
  return r
}

const parser = () => new SshdParser({ year: 2024, reference: Date.UTC(2030, 0, 1) })
const H = 'Mar  5 10:00:00 host sshd[100]: '

describe('SshdParser', () => {
  it('maps every pre-auth failure wording to a kind, with user and canonical address', () => {
    const cases: [string, string, string, string | undefined][] = [
      ['Failed password for root from 198.51.100.1 port 2222 ssh2', 'auth_failure', '198.51.100.1', 'root'],
      [
        'Failed password for invalid user admin from 198.51.100.1 port 2222 ssh2',
        'auth_failure',
        '198.51.100.1',
        'admin',
      ],
      [
        'Failed publickey for invalid user git from 2001:DB8::5 port 1 ssh2: RSA SHA256:x',
        'auth_failure',
        '2001:db8::5',
        'git',
      ],
      [
        'Failed keyboard-interactive/pam for bob from 198.51.100.1 port 2 ssh2',
        'auth_failure',
        '198.51.100.1',
        'bob',
      ],
      ['Failed none for invalid user x from 198.51.100.1 port 3 ssh2', 'auth_failure', '198.51.100.1', 'x'],
      ['Invalid user oracle from 198.51.100.2 port 4', 'invalid_user', '198.51.100.2', 'oracle'],
      ['Invalid user oracle from 198.51.100.2', 'invalid_user', '198.51.100.2', 'oracle'],
      ['Illegal user test from 198.51.100.2', 'invalid_user', '198.51.100.2', 'test'],
      [
        'User root from 198.51.100.3 not allowed because not listed in AllowUsers',
        'invalid_user',
        '198.51.100.3',
        'root',
      ],
      [
        'error: maximum authentication attempts exceeded for root from 198.51.100.4 port 5 ssh2 [preauth]',
        'max_auth_exceeded',
        '198.51.100.4',
        'root',
      ],
      [
        'maximum authentication attempts exceeded for invalid user a from 198.51.100.4 port 5 ssh2 [preauth]',
        'max_auth_exceeded',
        '198.51.100.4',
        'a',
      ],
      [
        'Received disconnect from 198.51.100.5 port 6:11: Bye Bye [preauth]',
        'preauth_disconnect',
        '198.51.100.5',
        undefined,
      ],
      [
        'Received disconnect from 198.51.100.5: 3: com.jcraft.jsch.JSchException: Auth fail',
        'auth_failure',
        '198.51.100.5',
        undefined,
      ],
      [
        'Disconnected from authenticating user root 198.51.100.6 port 7 [preauth]',
        'preauth_disconnect',
        '198.51.100.6',
        'root',
      ],
      [
        'Disconnected from invalid user ftp 198.51.100.6 port 7 [preauth]',
        'preauth_disconnect',
        '198.51.100.6',
        'ftp',
      ],
      ['Disconnected from 198.51.100.6 port 7 [preauth]', 'preauth_disconnect', '198.51.100.6', undefined],
      [
        'Connection closed by authenticating user root 198.51.100.7 port 8 [preauth]',
        'preauth_disconnect',
        '198.51.100.7',
        'root',
      ],
      [
        'Connection closed by invalid user x 198.51.100.7 port 8 [preauth]',
        'preauth_disconnect',
        '198.51.100.7',
        'x',
      ],
      ['Connection closed by 198.51.100.7 port 8 [preauth]', 'preauth_disconnect', '198.51.100.7', undefined],
      ['Connection reset by 198.51.100.8 port 9 [preauth]', 'preauth_disconnect', '198.51.100.8', undefined],
      [
        'Connection reset by authenticating user root 198.51.100.8 port 9 [preauth]',
        'preauth_disconnect',
        '198.51.100.8',
        'root',
      ],
      [
        'Did not receive identification string from 198.51.100.9 port 10',
        'no_identification',
        '198.51.100.9',
        undefined,
      ],
      [
        "Bad protocol version identification 'GET / HTTP/1.1' from 198.51.100.10 port 11",
        'bad_protocol',
        '198.51.100.10',
        undefined,
      ],
      [
        'Unable to negotiate with 198.51.100.11 port 12: no matching key exchange method found. Their offer: x [preauth]',
        'bad_protocol',
        '198.51.100.11',
        undefined,
      ],
      [
        'Unable to negotiate with 198.51.100.11 port 12: no matching host key type found. Their offer: ssh-rsa [preauth]',
        'bad_protocol',
        '198.51.100.11',
        undefined,
      ],
      [
        'fatal: Unable to negotiate with 198.51.100.11 port 12: no matching cipher found.',
        'bad_protocol',
        '198.51.100.11',
        undefined,
      ],
      [
        'fatal: Timeout before authentication for 198.51.100.12 port 13',
        'preauth_disconnect',
        '198.51.100.12',
        undefined,
      ],
      [
        'banner exchange: Connection from 198.51.100.13 port 14: invalid format',
        'bad_protocol',
        '198.51.100.13',
        undefined,
      ],
      [
        'banner exchange: Connection from 198.51.100.13 port 14: could not read protocol version',
        'no_identification',
        '198.51.100.13',
        undefined,
      ],
      ['ROOT LOGIN REFUSED FROM 198.51.100.14', 'auth_failure', '198.51.100.14', 'root'],
      [
        'ROOT LOGIN REFUSED FROM ::ffff:198.51.100.14 port 1 [preauth]',
        'auth_failure',
        '198.51.100.14',
        'root',
      ],
      [
        'refused connect from scanner.example (198.51.100.15)',
        'preauth_disconnect',
        '198.51.100.15',
        undefined,
      ],
      [
        'ssh_dispatch_run_fatal: Connection from 198.51.100.16 port 15: message authentication code incorrect [preauth]',
        'bad_protocol',
        '198.51.100.16',
        undefined,
      ],
      [
        'error: PAM: Authentication failure for carol from 198.51.100.17',
        'auth_failure',
        '198.51.100.17',
        'carol',
      ],
      [
        'Accepted publickey for deploy from 198.51.100.18 port 16 ssh2: ED25519 SHA256:x',
        'auth_success',
        '198.51.100.18',
        'deploy',
      ],
      [
        'Accepted password for alice from 198.51.100.18 port 16 ssh2',
        'auth_success',
        '198.51.100.18',
        'alice',
      ],
    ]
    for (const [msg, kind, ip, user] of cases) {
      const ev = event(parser().parse(H + msg))
      expect({ kind: ev.kind, ip: ev.ip, user: ev.user, service: ev.service }, msg).toEqual({
        kind,
        ip,
        user,
        service: 'ssh',
      })
      expect(ev.time).toBe(Date.UTC(2024, 2, 5, 10))
    }
  })

  it('understands sshd housekeeping and other programs as irrelevant, garbage and unknown wording as UNPARSED', () => {
    const p = parser()
    for (const msg of [
      'pam_unix(sshd:session): session opened for user bob(uid=1000) by (uid=0)',
      'Connection closed by 198.51.100.1 port 22',
      'Disconnected from user bob 198.51.100.1 port 22',
      'Received disconnect from 198.51.100.1 port 22:11: disconnected by user',
      'Server listening on 0.0.0.0 port 22.',
      'reverse mapping checking getaddrinfo for x.example [198.51.100.1] failed - POSSIBLE BREAK-IN ATTEMPT!',
      'input_userauth_request: invalid user x [preauth]',
      'PAM 2 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=198.51.100.1  user=root',
      'error: kex_exchange_identification: banner line too long', // no address known for the pid: waits
      'error: something new and operational',
      'debug1: userauth-request for user root service ssh-connection method none [preauth]',
    ])
      expect(p.parse(H + msg), msg).toBeUndefined()
    expect(
      p.parse('Mar  5 10:00:00 host CRON[5]: pam_unix(cron:session): session opened for user root'),
    ).toBeUndefined()
    expect(p.parse(H + 'A brand new OpenSSH wording we have never seen')).toBe(UNPARSED)
    expect(p.parse('\u0000\u0001 binary noise')).toBe(UNPARSED)
    expect(p.parse('')).toBe(UNPARSED)
  })

  it('never resolves host names', () => {
    expect(
      parser().parse(H + 'User root from example.com not allowed because not in any group'),
    ).toBeUndefined()
    expect(parser().parse(H + 'error: PAM: Authentication failure for x from 192.030.0.6')).toBeUndefined()
  })

  it('takes the real address when the user name is crafted to look like one', () => {
    const cases: [string, string, string][] = [
      [
        'Failed password for invalid user from 10.10.1.1 from 127.0.0.1 port 58946 ssh2',
        '127.0.0.1',
        'from 10.10.1.1',
      ],
      [
        'Failed password for invalid user test from 10.10.1.2 port 55555 ssh2 from 127.0.0.1 port 58946 ssh2',
        '127.0.0.1',
        'test from 10.10.1.2 port 55555 ssh2',
      ],
      [
        'Failed password for invalid user test from 127.0.0.1 port 58946 ssh2: from 10.10.1.2 port 55555 ssh2',
        '127.0.0.1',
        'test',
      ],
      [
        'Connection closed by authenticating user a 10.0.0.1 port 1 192.0.2.11 port 46039 [preauth]',
        '192.0.2.11',
        'a 10.0.0.1 port 1',
      ],
      [
        "Bad protocol version identification 'x' from 192.0.2.1' from 69.61.56.115 port 31778",
        '69.61.56.115',
        '',
      ],
    ]
    for (const [msg, ip, user] of cases) {
      const ev = event(parser().parse(H + msg))
      expect(ev.ip, msg).toBe(ip)
      if (user !== '') expect(ev.user, msg).toBe(user)
    }
  })

  it('reads the OpenSSH 9.8+ sshd-session process, RFC 3339 and RFC 5424 headers, and Solaris/journal prefixes', () => {
    const p = parser()
    expect(
      event(
        p.parse(
          'Jul  3 14:59:17 host sshd-session[1571]: Failed password for root from 192.0.2.1 port 5 ssh2',
        ),
      ).ip,
    ).toBe('192.0.2.1')
    const iso = event(
      p.parse('2024-01-01T12:00:00.123456+01:00 host sshd[1]: Invalid user a from 192.0.2.2 port 1'),
    )
    expect(iso.time).toBe(Date.UTC(2024, 0, 1, 11, 0, 0, 123))
    expect(
      event(
        p.parse(
          '<38>1 2019-07-08T17:40:16.9-04:00 h sshd 57915 - - Failed unknown for invalid user r from 192.0.2.3 port 1 ssh2',
        ),
      ).ip,
    ).toBe('192.0.2.3')
    expect(
      event(
        p.parse(
          H +
            '[ID 800047 auth.info] Failed keyboard-interactive for <invalid username> from 192.0.2.4 port 2 ssh2',
        ),
      ).ip,
    ).toBe('192.0.2.4')
    expect(
      event(
        p.parse(
          'srv sshd[20879]: kernel: [  970.699397] Failed password for user admin from 192.0.2.10 port 42745 ssh2',
        ),
      ).ip,
    ).toBe('192.0.2.10')
    // journalctl -o cat: no header at all, arrival time
    expect(event(p.parse('Invalid user z from 192.0.2.5 port 9', { now: 1234 })).time).toBe(1234)
  })

  it('attributes address-less failures through the pid', () => {
    const p = parser()
    expect(
      p.parse('Mar  5 10:00:00 h sshd[7]: Connection from 192.0.2.20 port 5 on 10.0.0.1 port 22'),
    ).toBeUndefined()
    const ev = event(
      p.parse('Mar  5 10:00:01 h sshd[7]: Disconnecting: Too many authentication failures [preauth]'),
    )
    expect([ev.kind, ev.ip]).toEqual(['max_auth_exceeded', '192.0.2.20'])
    expect(
      event(
        p.parse(
          'Mar  5 10:00:01 h sshd[7]: fatal: Read from socket failed: Connection reset by peer [preauth]',
        ),
      ).kind,
    ).toBe('preauth_disconnect')
    // another pid knows nothing
    expect(
      p.parse('Mar  5 10:00:01 h sshd[8]: Disconnecting: Too many authentication failures [preauth]'),
    ).toBeUndefined()
  })

  it('releases a waiting failure when the pid finally names the address', () => {
    const p = parser()
    expect(
      p.parse(
        'Mar  5 10:00:00 h sshd[9]: error: kex_exchange_identification: Connection closed by remote host',
      ),
    ).toBeUndefined()
    const ev = event(p.parse('Mar  5 10:00:00 h sshd[9]: Connection closed by 192.0.2.15 port 35352'))
    expect([ev.kind, ev.ip]).toEqual(['no_identification', '192.0.2.15'])
    // once only
    expect(p.parse('Mar  5 10:00:01 h sshd[9]: Connection closed by 192.0.2.15 port 35352')).toBeUndefined()
  })

  it('counts a pam failure only when sshd does not log its own for the try', () => {
    const p = parser()
    const pam = (user: string) =>
      `Mar  5 10:00:00 h sshd[11]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=192.0.2.30  user=${user}`
    expect(p.parse(pam('root'))).toBeUndefined()
    expect(
      event(p.parse('Mar  5 10:00:01 h sshd[11]: Failed password for root from 192.0.2.30 port 1 ssh2')).kind,
    ).toBe('auth_failure')
    expect(p.parse(pam('root'))).toBeUndefined()
    // a second failure for another user with no "Failed" line in between is a try of its own
    const ev = event(p.parse(pam('admin')))
    expect([ev.kind, ev.ip, ev.user]).toEqual(['auth_failure', '192.0.2.30', 'admin'])
  })

  it('carries the repeat count of "message repeated N times"', () => {
    const ev = event(
      parser().parse(
        H + 'message repeated 5 times: [ Failed password for root from 5.36.59.76 port 42393 ssh2]',
      ),
    )
    expect([ev.kind, ev.ip, ev.user, ev.count]).toEqual(['auth_failure', '5.36.59.76', 'root', 5])
    expect(event(parser().parse(H + 'Invalid user a from 192.0.2.1')).count).toBeUndefined()
  })

  it('stamps the source from options or context', () => {
    const p = new SshdParser({ year: 2024, source: '/var/log/auth.log' })
    expect(event(p.parse(H + 'Invalid user a from 192.0.2.1')).source).toBe('/var/log/auth.log')
    expect(event(p.parse(H + 'Invalid user a from 192.0.2.1', { source: 'other' })).source).toBe('other')
  })

  it('remembers a bounded number of connections', () => {
    // two slots: pid 3 lands on pid 1's slot and evicts it
    const p = new SshdParser({ year: 2024, maxTrackedConnections: 2 })
    p.parse('Mar  5 10:00:00 h sshd[1]: Connection from 192.0.2.1 port 5 on 10.0.0.1 port 22')
    p.parse('Mar  5 10:00:00 h sshd[2]: Connection from 192.0.2.2 port 5 on 10.0.0.1 port 22')
    p.parse('Mar  5 10:00:00 h sshd[3]: Connection from 192.0.2.3 port 5 on 10.0.0.1 port 22')
    expect(
      event(p.parse('Mar  5 10:00:01 h sshd[3]: Disconnecting: Too many authentication failures [preauth]'))
        .ip,
    ).toBe('192.0.2.3')
    expect(
      event(p.parse('Mar  5 10:00:01 h sshd[2]: Disconnecting: Too many authentication failures [preauth]'))
        .ip,
    ).toBe('192.0.2.2')
    expect(
      p.parse('Mar  5 10:00:01 h sshd[1]: Disconnecting: Too many authentication failures [preauth]'),
    ).toBeUndefined()
  })

  it('follows a log across new year with the year tracker (fixture)', () => {
    // the file's mtime is mid-January 2025: its December lines are 2024
    const p = new SshdParser({ reference: Date.UTC(2025, 0, 20) })
    const out = fixture('year-boundary-auth.txt').map((l) => p.parse(l))
    const events = out.filter((r): r is SecurityEvent => r !== undefined && r !== UNPARSED)
    expect(out).not.toContain(UNPARSED)
    expect(events.map((e) => [new Date(e.time).toISOString(), e.kind, e.ip])).toEqual([
      ['2024-12-30T23:58:01.000Z', 'invalid_user', '198.51.100.23'],
      ['2024-12-30T23:58:03.000Z', 'auth_failure', '198.51.100.23'],
      ['2025-01-01T00:00:02.000Z', 'auth_failure', '2001:db8::7'],
      ['2025-01-01T00:00:05.000Z', 'preauth_disconnect', '203.0.113.9'],
      ['2025-01-15T08:00:00.000Z', 'auth_success', '192.0.2.44'],
    ])
  })
})
