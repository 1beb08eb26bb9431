import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { detectFormat } from './detect-format.ts'
import { createParser } from './index.ts'
import { UNPARSED } from './parser.ts'
import { DATA_DIR, dataLines, hasData } from './test-data.ts'

/**
 * CrowdSec hub scenario tests: one log per folder, `config.yaml` says how CrowdSec reads it (`log_type`), and
 * `scenario.assert` names the addresses its scenario must flag. Here: the format is detected as expected, every
 * line is understood, and every address CrowdSec expects to flag appears in our events. (Detection itself is
 * tested elsewhere over the same folders.)
 */

/** CrowdSec log_type -> our format */
const LOG_TYPES: Record<string, string> = {
  syslog: 'sshd',
  nginx: 'nginx',
  apache2: 'apache',
  traefik: 'traefik',
}

/** lines we cannot understand, on purpose */
const FOREIGN = [
  // the CrowdSec Traefik bouncer plugin writes its debug output into Traefik's log stream
  'DEBUG: CrowdsecBouncerTraefikPlugin:',
]

/**
 * What detectFormat may answer: the access-log parser's canonical name is `nginx`; a pure nginx error log is
 * `nginx-error` (CrowdSec's `nginx` type covers both, and so does our `nginx` parser).
 */
const DETECTED: Record<string, readonly string[]> = {
  sshd: ['sshd'],
  nginx: ['nginx', 'nginx-error'],
  apache: ['nginx'],
  traefik: ['traefik'],
}

const ROOT = 'crowdsec-hub-tests'

describe.skipIf(!hasData(ROOT))('crowdsec hub tests', () => {
  const folders = hasData(ROOT)
    ? readdirSync(DATA_DIR + ROOT, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name)
    : []

  it('has the folders this suite knows', () => {
    expect(folders.length).toBeGreaterThanOrEqual(22)
  })

  for (const folder of folders) {
    it(folder, () => {
      const config = readFileSync(`${DATA_DIR}${ROOT}/${folder}/config.yaml`, 'utf8')
      const logType = /^log_type:\s*(\S+)/m.exec(config)?.[1] ?? ''
      const logFile = /^log_file:\s*(\S+)/m.exec(config)?.[1] ?? ''
      const format = LOG_TYPES[logType]
      expect(format, `log_type ${logType}`).toBeDefined()
      const lines = dataLines(`${ROOT}/${folder}/${logFile}`)
      expect(DETECTED[format]).toContain(detectFormat(lines))

      const parser = createParser(format, { year: 2024 })
      const ips = new Set<string>()
      for (const line of lines) {
        const r = parser.parse(line)
        if (r === UNPARSED) {
          expect(
            FOREIGN.some((f) => line.startsWith(f)),
            `unparsed: ${line}`,
          ).toBe(true)
          continue
        }
        if (r !== undefined) ips.add(r.ip)
      }
      let assertText = ''
      try {
        assertText = readFileSync(`${DATA_DIR}${ROOT}/${folder}/scenario.assert`, 'utf8')
      } catch {
        // parser-only folders have no scenario
      }
      const flagged = [
        ...assertText.matchAll(/^"([^"]+)" in results\[\d+\]\.Overflow\.GetSources\(\)/gm),
      ].map((m) => m[1])
      for (const ip of flagged) expect(ips, `${folder}: ${ip}`).toContain(ip)
    })
  }

  it('sshd-logs: reads every CrowdSec sshd parser test line', () => {
    const p = createParser('sshd', { year: 2024 })
    const out = dataLines(`${ROOT}/sshd-logs/sshd-logs.log`).map((l) => p.parse(l))
    expect(out).not.toContain(UNPARSED)
    const events = out.filter((r) => r !== undefined && r !== UNPARSED)
    expect(events.map((e) => `${e.kind} ${e.ip}`)).toEqual([
      'invalid_user 35.188.49.176',
      'invalid_user 35.188.49.176',
      'invalid_user 35.188.49.176',
      // the first pam failure of a connection waits for sshd's own "Failed password" line; the second (another
      // user on the same pid, here even another address) counts
      'auth_failure 5.33.63.161',
      'preauth_disconnect 206.81.24.125',
      'preauth_disconnect 92.255.85.135',
      'preauth_disconnect 92.255.85.135',
      'preauth_disconnect 92.255.85.135',
      'bad_protocol 94.232.46.213',
      'bad_protocol 94.232.46.213',
      'preauth_disconnect 206.81.24.125',
      'bad_protocol 123.57.135.134',
      'bad_protocol 206.189.59.169',
      'bad_protocol 123.123.123.123',
      'preauth_disconnect 80.94.92.63',
      'invalid_user 192.168.1.1',
      'auth_failure 192.168.1.2',
      'preauth_disconnect 192.168.9.212',
      'bad_protocol 192.168.9.213',
      'invalid_user 192.168.1.3',
      'preauth_disconnect 118.27.24.104',
      'preauth_disconnect 192.168.1.1',
      'preauth_disconnect 192.168.1.1',
    ])
  })

  it('sshd-logs-fp: "Close session" lines are not failures', () => {
    const p = createParser('sshd', { year: 2024 })
    for (const l of dataLines(`${ROOT}/sshd-logs-fp/sshd-logs.log`)) expect(p.parse(l)).toBeUndefined()
  })
})
