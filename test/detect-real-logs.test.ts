import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../config/index.ts'
import { createDetectionEngine } from '../node/detect/create-engine.ts'
import { replayFiles } from '../node/detect/replay.ts'

const DATA = join(import.meta.dirname, '..', '..', 'shared', 'data')
const OPENSSH = join(DATA, 'loghub', 'OpenSSH', 'OpenSSH_2k.log')
const APACHE = join(DATA, 'elastic-examples', 'apache_logs')
const engine = () => createDetectionEngine(loadConfig({ env: {}, cli: {} }).detect)

describe.skipIf(!existsSync(OPENSSH))('real sshd log (loghub OpenSSH_2k, an internet-facing server)', () => {
  it('bans every host that keeps guessing passwords, and only hosts that failed repeatedly', async () => {
    const result = await replayFiles([{ path: OPENSSH, format: 'sshd' }], engine())
    expect(result.unparsed).toBe(0)
    // Ground truth counted independently of our parser: "Failed password" lines per host.
    const failures = new Map<string, number>()
    for (const m of readFileSync(OPENSSH, 'utf8').matchAll(
      /Failed password for (?:invalid user )?\S+ from (\S+)/g,
    )) {
      failures.set(m[1], (failures.get(m[1]) ?? 0) + 1)
    }
    const bruteForcers = [...failures].filter(([, n]) => n >= 10).map(([ip]) => ip)
    expect(bruteForcers).toContain('183.62.140.253')
    const banned = new Set(result.decisions.map((d) => d.ip))
    for (const ip of bruteForcers)
      expect(banned, `${ip} (${failures.get(ip)} failed passwords)`).toContain(ip)
    for (const d of result.decisions) {
      expect(d.scenario).toMatch(/^ssh-/)
      expect(d.events).toBeGreaterThanOrEqual(4)
      expect(d.reasons[0]).toMatch(/failed ssh logins|user names/)
    }
    const attacker = result.decisions.find((d) => d.ip === '183.62.140.253')
    expect(attacker).toMatchObject({ scenario: 'ssh-bf', confidence: 0.95, durationSeconds: 4 * 3600 })
  })
})

describe.skipIf(!existsSync(APACHE))(
  'real, mostly benign access log (elastic apache_logs, 10,000 lines)',
  () => {
    it('decides only on real probes, each reviewed and listed here', async () => {
      const result = await replayFiles([{ path: APACHE, format: 'apache' }], engine())
      expect(result.lines).toBe(10_000)
      expect(result.unparsed).toBe(0)
      // Reviewed: 91.236.75.25 sends HEAD requests with no user agent for eight FCKeditor file-manager paths
      // (a known upload vulnerability) under a blog URL within a minute, every one a 404: a vulnerability scan.
      // Not banned, rightly: MJ12bot (a crawler following broken links, 14 404s), the Chef client polling one
      // missing jar 60 times, and the one-request-per-address WordPress probes (only a network sees those).
      expect(result.decisions.map((d) => [d.ip, d.scenario])).toEqual([['91.236.75.25', 'http-probing-slow']])
    })
  },
)
