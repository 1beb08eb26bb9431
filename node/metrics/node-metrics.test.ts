import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { NodeMetrics } from './node-metrics.ts'

const PROMTOOL = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p))

function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels))
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1))
}

describe('NodeMetrics', () => {
  it('reads node state at scrape time and skips sources that throw', async () => {
    const m = new NodeMetrics({ node: 'node-01' })
    let lines = 10
    m.provide({
      ingestSources: () => [{ path: '/var/log/auth.log', format: 'sshd', lines, events: 7, unparsed: 2 }],
      alertCounts: () => ({ published: 3, accepted: 5, rejected: { bad_signature: 2 }, ignored: {} }),
      trust: () => [0.05, 0.5, 0.95],
      peers: () => {
        throw new Error('not started')
      },
    })
    m.decisions.inc({ scenario: 'ssh-bf', origin: 'local' })
    let text = await m.text()
    expect(sample(text, 'shieldwall_ingest_lines_total', 'source="/var/log/auth.log"')).toBe(10)
    expect(sample(text, 'shieldwall_alerts_total', 'reason="bad_signature"')).toBe(2)
    expect(sample(text, 'shieldwall_decisions_total', 'scenario="ssh-bf"')).toBe(1)
    expect(sample(text, 'shieldwall_peer_trust_peers', 'at_most="0.5"')).toBe(2)
    expect(text).toContain('node="node-01"')
    expect(text).not.toMatch(/^shieldwall_peers /m)
    lines = 25
    text = await m.text()
    expect(sample(text, 'shieldwall_ingest_lines_total', 'format="sshd"')).toBe(25)
  })

  it.skipIf(PROMTOOL === undefined)('passes promtool check metrics (Debian package prometheus)', async () => {
    const m = new NodeMetrics()
    m.provide({ peers: () => 2, blocklistSize: () => 5, gossipScores: () => [1, -3] })
    m.apiLatency.observe({ method: 'GET', route: '/v1/decisions', status: '200' }, 0.0007)
    const r = spawnSync(PROMTOOL as string, ['check', 'metrics'], { input: await m.text(), encoding: 'utf8' })
    expect(r.stdout + r.stderr).toBe('')
    expect(r.status).toBe(0)
  })
})
