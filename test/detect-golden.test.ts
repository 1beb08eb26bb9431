import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../config/index.ts'
import { createDetectionEngine } from '../node/detect/create-engine.ts'
import { replayFiles } from '../node/detect/replay.ts'

const HUB = join(import.meta.dirname, '..', '..', 'shared', 'data', 'crowdsec-hub-tests')
const detectConfig = () => loadConfig({ env: {}, cli: {} }).detect

/** CrowdSec's `log_type` → our format */
const FORMAT: Record<string, string> = {
  syslog: 'sshd',
  nginx: 'nginx',
  apache2: 'apache',
  traefik: 'traefik',
}

interface HubCase {
  name: string
  log: string
  format: string
  expected: string[]
}

function hubCases(): HubCase[] {
  if (!existsSync(HUB)) return []
  const cases: HubCase[] = []
  for (const name of readdirSync(HUB).sort()) {
    const dir = join(HUB, name)
    if (!existsSync(join(dir, 'config.yaml'))) continue
    const config = readFileSync(join(dir, 'config.yaml'), 'utf8')
    const logFile = /log_file:\s*(\S+)/.exec(config)?.[1]
    const logType = /log_type:\s*(\S+)/.exec(config)?.[1]
    if (logFile === undefined || logType === undefined) continue
    const assert = existsSync(join(dir, 'scenario.assert'))
      ? readFileSync(join(dir, 'scenario.assert'), 'utf8')
      : ''
    const expected = [
      ...new Set(
        [...assert.matchAll(/"([^"]+)" in results\[\d+\]\.Overflow\.GetSources\(\)/g)].map((m) => m[1]),
      ),
    ]
    cases.push({ name, log: join(dir, logFile), format: FORMAT[logType] ?? 'auto', expected })
  }
  return cases
}

const cases = hubCases()

describe.skipIf(cases.length === 0)('golden: CrowdSec hub scenario tests', () => {
  const attackCases = cases.filter((c) => c.expected.length > 0)
  it('found the hub cases', () => {
    expect(attackCases.length).toBeGreaterThanOrEqual(18)
  })

  for (const c of attackCases) {
    it(`${c.name}: decides on ${c.expected.join(', ')}`, async () => {
      const result = await replayFiles(
        [{ path: c.log, format: c.format }],
        createDetectionEngine(detectConfig()),
      )
      expect(result.unparsed, `unparsed lines in ${c.name}`).toBe(0)
      const decided = new Set(result.decisions.map((d) => d.ip))
      for (const ip of c.expected)
        expect(decided, `${ip} in ${c.name}: ${JSON.stringify(result.decisions)}`).toContain(ip)
      // no address that CrowdSec leaves alone in these logs is banned either
      for (const d of result.decisions)
        expect(c.expected, `unexpected ${d.ip} (${d.scenario}) in ${c.name}`).toContain(d.ip)
      for (const d of result.decisions) expect(d.reasons.length).toBeGreaterThan(0)
    })
  }

  // Folders CrowdSec uses only to test its parsers: no scenario assertions, so these expectations are ours.
  const OURS: Record<string, string[]> = {
    // two requests for random files with the user agent "Nikto", a scanner that announces itself
    traefik_json: ['172.17.0.1'],
  }
  for (const c of cases.filter((x) => x.expected.length === 0)) {
    const expected = OURS[c.name] ?? []
    it(`${c.name}: parses every line and decides on ${expected.join(', ') || 'nobody'}`, async () => {
      const result = await replayFiles(
        [{ path: c.log, format: c.format }],
        createDetectionEngine(detectConfig()),
      )
      // Traefik's log interleaves plugin debug lines that are not JSON: those, and only those, are unparsed.
      const lines = readFileSync(c.log, 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
      const foreign = c.format === 'traefik' ? lines.filter((l) => !l.startsWith('{')).length : 0
      expect(result.unparsed).toBe(foreign)
      expect(result.decisions.map((d) => d.ip).sort()).toEqual(expected)
    })
  }
})
