import { describe, expect, it } from 'vitest'
import type { SecurityEvent } from '../event.ts'
import { readFail2banCases } from './fail2ban-cases.ts'
import { canonicalIp } from './ip.ts'
import { createParser } from './index.ts'
import { isFailureKind } from './new-event.ts'
import { UNPARSED } from './parser.ts'
import { DATA_DIR, hasData } from './test-data.ts'

/**
 * fail2ban's own regression logs. Every line fail2ban's filter fires on (`"match": true`) must give a failure
 * event for the labelled host, at the labelled time (fail2ban's test suite runs in Europe/Berlin, and so do we
 * here; the newer cowrie file is labelled in UTC). Lines it deliberately ignores (`"match": false`) may still interest us: those we report are listed
 * below with the reason, and any other difference fails the test.
 */

/** match:true lines we cannot satisfy, by a distinctive substring */
const KNOWN_MISSES: readonly [string, string][] = [
  ['from example.com', 'the host is a DNS name: parsers never resolve names (fail2ban would, with usedns)'],
  [
    'from 192.030.0.6',
    'leading-zero octet: not a valid IPv4 literal (octal-ambiguous), sshd never prints one',
  ],
  [
    'Accepted password for known from',
    'fail2ban flags a success that follows failures for other user names on the same connection; we report the ' +
      'success as auth_success, and the second-user pam failure before it already came out as auth_failure',
  ],
]

/** match:false lines we nevertheless report as a failure, by a distinctive substring */
const DELIBERATE: readonly [string, string][] = [
  [
    'Failed publickey for git from',
    'a rejected key is an auth failure; clients offering several keys is for detectors to weigh',
  ],
  [
    'Connection closed by 192.0.2.111 [preauth]',
    'fail2ban counts it only in aggressive mode; a pre-auth close is a preauth_disconnect',
  ],
  [
    'Disconnecting invalid user xxx 192.0.2.7',
    'pre-auth disconnect after too many failures (fail2ban: already counted)',
  ],
  [
    'Disconnected from authenticating user admin 192.0.2.6',
    'pre-auth disconnect; fail2ban counts it only in extra/aggressive mode',
  ],
  [
    'File does not exist: /srv/http/site/[client 192.168.0.1]',
    'an http_error for the real client 192.168.33.1, never for the injected one',
  ],
  [
    'Digest: invalid nonce l19lgpD',
    'forged digest nonce: http_auth_failure (fail2ban: "under investigation")',
  ],
  ['AH01776: invalid nonce', 'forged digest nonce: http_auth_failure (fail2ban: "under investigation")'],
  ['[evasive20:error]', 'mod_evasive denial is a client error (fail2ban: aggressive mode only)'],
  [
    'connect() failed (111: Connection refused) while connecting to upstream',
    'client-attributed error line: http_error',
  ],
]

/** file, parser format, the zone its `time` labels are written in */
const FILES: readonly [file: string, format: string, labelZone: string][] = [
  ['sshd', 'sshd', 'Europe/Berlin'],
  ['sshd-journal', 'sshd', 'Europe/Berlin'],
  ['nginx-http-auth', 'nginx-error', 'Europe/Berlin'],
  ['apache-auth', 'apache-error', 'Europe/Berlin'],
  ['nginx-limit-req', 'nginx-error', 'Europe/Berlin'],
  ['cowrie', 'cowrie', 'UTC'],
]

function localIso(t: number, timeZone: string): string {
  const f = new Intl.DateTimeFormat('sv-SE', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  })
  return f.format(new Date(t)).replace(' ', 'T')
}

describe.skipIf(!hasData('fail2ban-logs'))('fail2ban regression logs', () => {
  const stats: string[] = []

  for (const [file, format, labelZone] of FILES) {
    it(`${file} (${format})`, () => {
      const parser = createParser(format, { timeZone: labelZone })
      let year = 2005
      let trueCount = 0
      let trueHit = 0
      let falseCount = 0
      const misses: string[] = []
      const unexpected: string[] = []
      const deliberate: string[] = []
      for (const c of readFail2banCases(`${DATA_DIR}fail2ban-logs/${file}`)) {
        if (c.expect?.time !== undefined) year = Number(c.expect.time.slice(0, 4))
        // syslog lines carry no year; fail2ban's suite pins "now" in 2005 and its labels say which year it meant
        const r = parser.parse(c.line, { year, now: Date.UTC(year, 0, 1) })
        if (r === UNPARSED && !c.line.startsWith('not a json line'))
          unexpected.push(`UNPARSED ${c.lineNo}: ${c.line}`)
        const ev: SecurityEvent | undefined = r === undefined || r === UNPARSED ? undefined : r
        const failure = ev !== undefined && isFailureKind(ev.kind) ? ev : undefined
        if (c.expect === undefined) continue
        if (c.expect.match) {
          trueCount++
          const host = c.expect.host === undefined ? undefined : (canonicalIp(c.expect.host) ?? c.expect.host)
          if (failure !== undefined && (host === undefined || failure.ip === host)) {
            trueHit++
            const wantTime = c.expect.time
            // journal lines carry no time; fail2ban labels them anyway with its pinned clock
            if (wantTime !== undefined && !c.line.startsWith('srv ') && !c.line.startsWith('host '))
              expect(localIso(failure.time, labelZone), `time of line ${c.lineNo}`).toBe(
                wantTime.slice(0, 19),
              )
          } else if (KNOWN_MISSES.some(([s]) => c.line.includes(s))) misses.push(`${c.lineNo}`)
          else
            unexpected.push(
              `missed ${c.lineNo} (${c.expect.host}): ${c.line} => ${ev ? `${ev.kind} ${ev.ip}` : String(r)}`,
            )
        } else {
          falseCount++
          if (failure === undefined) continue
          if (DELIBERATE.some(([s]) => c.line.includes(s))) deliberate.push(`${c.lineNo}`)
          else unexpected.push(`reported ${c.lineNo}: ${c.line} => ${failure.kind} ${failure.ip}`)
        }
      }
      stats.push(
        `${file}: match:true ${trueHit}/${trueCount} (known misses: ${misses.length}), ` +
          `match:false reported as failure ${deliberate.length}/${falseCount}`,
      )
      expect(unexpected).toEqual([])
      expect(trueHit + misses.length).toBe(trueCount)
    })
  }

  it('prints the match statistics', () => {
    console.log(`fail2ban regression logs\n  ${stats.join('\n  ')}`)
    expect(stats.length).toBe(FILES.length)
  })
})
