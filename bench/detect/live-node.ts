/**
 * Live ingest through a whole node: `shieldwall start` as its own process (as in test/ingest-kill.test.ts)
 * following an sshd log where every line is a decision (ssh-bf capacity 0, one address per line). N lines are
 * appended at once; prints the time until all decisions are stored, until all their alerts are stored, and
 * until all are blocked locally, as lines/s, read from the status API every 10 ms.
 *
 *   node bench/detect/live-node.ts [lines=3000] [runs=2]
 */
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startProcess, stopProcess } from '../../test/helpers/processes.ts'

const LINES = Number(process.argv[2] ?? 3000)
const RUNS = Number(process.argv[3] ?? 2)

for (let run = 0; run < RUNS; run++) {
  const dir = await mkdtemp(join(tmpdir(), 'shieldwall-live-node-'))
  try {
    const log = join(dir, 'auth.log')
    await writeFile(log, '')
    const config = join(dir, 'shieldwall.json')
    await writeFile(
      config,
      JSON.stringify({
        sources: [{ path: log, format: 'sshd', startAt: 'beginning' }],
        detect: {
          scenarios: { 'ssh-bf': { capacity: 0 } },
          stats: { enabled: false },
          anomaly: { enabled: false },
        },
        learning: { enabled: false },
      }),
    )
    const dataDir = join(dir, 'data')
    const node = await startProcess([
      '--config',
      config,
      '--data-dir',
      dataDir,
      '--api',
      '127.0.0.1:0',
      '--listen',
      '/ip4/127.0.0.1/tcp/0',
      '--log-level',
      'warn',
    ])
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
    } finally {
      await stopProcess(node)
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
