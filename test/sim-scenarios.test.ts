import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { writeHtmlReport } from '../sim/report/html-report.ts'
import type { SimReport } from '../sim/report/report.ts'
import { runScenario } from '../sim/run-scenario.ts'
import { scenarioByName } from '../sim/scenarios/index.ts'

/**
 * Small versions of the simulator's scenarios on the memory transport: real nodes, real log followers, real
 * gossip. Each asserts the outcome from its report; assertions that need a feature not in the tree yet (the
 * fed blocklist, reputation, catch-up) are reported as skipped by the scenario itself, never silently passed.
 */
describe('simulator scenarios', () => {
  const reports: SimReport[] = []
  afterAll(async () => {
    for (const r of reports) {
      const failed = r.assertions.filter((a) => a.status === 'fail')
      if (failed.length > 0) console.error(r.scenario, JSON.stringify(failed))
    }
  })

  const run = async (name: string, nodes: number, durationSeconds: number) => {
    const report = await runScenario({
      scenario: scenarioByName(name),
      nodes,
      durationSeconds,
      seed: 7,
      settleSeconds: 6,
    })
    reports.push(report)
    expect(report.assertions.filter((a) => a.status === 'fail')).toEqual([])
    return report
  }

  it('distributed-bruteforce: detected attackers reach every honest node, no benign user is blocked', async () => {
    const r = await run('distributed-bruteforce', 6, 14)
    expect(r.missedDetectedBlocks).toBe(0)
    expect(r.falseBlocks).toBe(0)
    expect(r.propagation.count).toBeGreaterThan(0)
    expect(r.propagation.p99Ms).toBeLessThanOrEqual(5000)
    expect(r.delivery.ratio).toBeGreaterThanOrEqual(0.99)
    expect(r.bytesPerNode.mean).toBeGreaterThan(0)
    // the spread-out attackers stay below every local threshold
    expect(
      r.attackerOutcomes.filter((a) => a.kind === 'distributed-bruteforce').every((a) => a.detectedBy === 0),
    ).toBe(true)
    expect(r.resources.peakRssMb).toBeGreaterThan(0)
  })

  it('sybil-false-reports: honest detections still propagate through a hostile crowd and an alert flood', async () => {
    const r = await run('sybil-false-reports', 7, 12)
    expect(r.hostileNodes).toBe(2)
    expect(r.missedDetectedBlocks).toBe(0)
    expect(r.delivery.ratio).toBeGreaterThanOrEqual(0.95)
    // the flood is held back by every honest receiver's per-sender rate limit
    expect(r.perNode.filter((n) => n.role === 'honest').every((n) => n.alertsIgnored > 0)).toBe(true)
    const falseBlocks = r.assertions.find((a) => a.metric === 'falseBlocks')
    expect(falseBlocks?.status).toBe(r.capabilities.includes('blocklist') ? 'pass' : 'skipped')
  })

  it('churn: rejoining nodes find the network again and get new blocks', async () => {
    const r = await run('churn', 7, 16)
    expect(r.churn?.rejoined).toBeGreaterThan(0)
    expect(r.churn?.rejoinedIsolated).toBe(0)
    expect(r.churn?.afterRejoinMissed).toBe(0)
    expect(r.timelines.events.map((e) => e.label.split(' ').at(-1))).toEqual(['leave', 'rejoin'])
  })

  it('partition: nothing crosses the split, each side defends itself, blocks flow again after healing', async () => {
    const r = await run('partition', 6, 16)
    expect(r.partition?.groups.flat().sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5])
    expect(r.partition?.leaks).toBe(0)
    expect(r.partition?.withinSideMissed).toBe(0)
    expect(r.partition?.afterHealMissed).toBe(0)
  })

  it('writes one self-contained HTML report with every section', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shieldwall-sim-html-'))
    try {
      const path = join(dir, 'report.html')
      const r = reports[0] as SimReport
      await writeHtmlReport(path, { ...r, rounds: [{ round: 1, accuracy: 0.9, epsilon: 0.5 }] })
      const html = await readFile(path, 'utf8')
      for (const id of ['summary', 'propagation-cdf', 'blocks-over-time', 'learning', 'trust'])
        expect(html).toContain(`id="${id}"`)
      expect(html).toContain('<svg')
      expect(html).not.toMatch(/<script|<link|src="http|href="http/)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
