/**
 * Live ingest through a whole node: `shieldwall start` as its own process (as in test/ingest-kill.test.ts)
 * following an sshd log where every line is a decision (ssh-bf capacity 0, one address per line). N lines are
 * appended at once; prints the time until all decisions are stored, until all their alerts are stored, and
 * until all are blocked locally, as lines/s, read from the status API every 10 ms.
 *
 * Then the line-to-ban latency of a live file (the target: within 1 s; tests do not bound it, a busy machine
 * would fail them): `latencyLines` single decision lines, each appended once the previous one is banned. For each,
 * two figures: decided, from the append to the node's own `decidedAt` (its clock, no polling error); banned, from
 * the append until the decision API shows it linked to its alert, which the node does once the local block is
 * written (read every 2 ms). Prints p50, p99 and max of each.
 *
 *   node bench/detect/live-node.ts [lines=3000] [runs=2] [latencyLines=200]
 */
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loopbackNodeArgs, writeDecisionPerLineConfig } from '../../test/helpers/decision-per-line.ts'
import { startProcess, stopProcess } from '../../test/helpers/processes.ts'

const LINES = Number(process.argv[2] ?? 3000)
const RUNS = Number(process.argv[3] ?? 2)
const LATENCY_LINES = Math.min(10_000, Number(process.argv[4] ?? 200))

/** nearest-rank percentile of ascending `sorted` */
function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!
}
const figures = (ms: number[]) => {
  const sorted = [...ms].sort((a, b) => a - b)
  const f = (v: number) => `${v.toFixed(1)} ms`
  return `p50 ${f(percentile(sorted, 0.5))}, p99 ${f(percentile(sorted, 0.99))}, max ${f(sorted.at(-1)!)}`
}

for (let run = 0; run < RUNS; run++) {
  const dir = await mkdtemp(join(tmpdir(), 'shieldwall-live-node-'))
  try {
    const log = join(dir, 'auth.log')
    await writeFile(log, '')
    const config = join(dir, 'shieldwall.json')
    await writeDecisionPerLineConfig(config, log)
    const dataDir = join(dir, 'data')
    const node = await startProcess(loopbackNodeArgs(config, dataDir))
    try {
      const token = (await readFile(join(dataDir, 'api-token'), 'utf8')).trim()
      const status = async () =>
        (await (
          await fetch(node.ready.api + '/api/defense/network/status', {
            headers: { authorization: `Bearer ${token}` },
          })
        ).json()) as any
      let text = ''
      for (let i = 0; i < LINES; i++) {
        text += `Dec  7 23:00:00 web-1 sshd[${1000 + (i % 30000)}]: Failed password for root from `
        text += `198.18.${i >> 8}.${i & 255} port ${40000 + (i % 20000)} ssh2\n`
      }
      const t0 = performance.now()
      await appendFile(log, text)
      const at: Record<string, number> = {}
      while (at.blocked === undefined) {
        const s = await status()
        const t = (performance.now() - t0) / 1000
        if (at.stored === undefined && s.counts.decisionsStored >= LINES) at.stored = t
        if (at.alerts === undefined && s.counts.alertsStored >= LINES) at.alerts = t
        if (s.blocklist.stats.byOrigin.local >= LINES) at.blocked = t
        await new Promise((r) => setTimeout(r, 10))
      }
      const rate = (s: number | undefined) => `${s!.toFixed(2)} s (${Math.round(LINES / s!)} lines/s)`
      console.log(
        `run ${run + 1}: ${LINES} decision lines: all stored ${rate(at.stored)}, all alerts ${rate(at.alerts)}, ` +
          `all blocked locally ${rate(at.blocked)}`,
      )

      const decided: number[] = []
      const banned: number[] = []
      for (let i = 0; i < LATENCY_LINES; i++) {
        const ip = `198.19.${i >> 8}.${i & 255}`
        const line = `Dec  7 23:00:00 web-1 sshd[${2000 + i}]: Failed password for root from ${ip} port 40000 ssh2\n`
        const wall = Date.now()
        const t = performance.now()
        await appendFile(log, line)
        for (;;) {
          const page = (await (
            await fetch(node.ready.api + '/api/defense/decisions?limit=5', {
              headers: { authorization: `Bearer ${token}` },
            })
          ).json()) as { items: Array<{ ip: string; alertId?: string; decidedAt: string }> }
          const d = page.items.find((x) => x.ip === ip && x.alertId !== undefined)
          if (d !== undefined) {
            banned.push(performance.now() - t)
            decided.push(Date.parse(d.decidedAt) - wall)
            break
          }
          await new Promise((r) => setTimeout(r, 2))
        }
      }
      console.log(
        `run ${run + 1}: line-to-ban latency of a live file over ${LATENCY_LINES} lines: ` +
          `decided ${figures(decided)}; banned (local block written, alert linked) ${figures(banned)}`,
      )
    } finally {
      await stopProcess(node)
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
