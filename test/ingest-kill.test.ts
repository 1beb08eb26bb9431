import { appendFile, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { AlertStore, type StoredAlert } from '../node/alerts/alert-store.ts'
import { DecisionStore, type StoredDecision } from '../node/decisions/decision-store.ts'
import { openStore } from '../node/store/open-store.ts'
import { TOPIC_MESSAGES } from '../protocol/messages/registry.ts'
import { TOPICS } from '../protocol/topics.ts'
import { validateEnvelope } from '../protocol/validation/validate-envelope.ts'
import { loopbackNodeArgs, writeDecisionPerLineConfig } from './helpers/decision-per-line.ts'
import { startProcess, stopProcess, type RunningProcess } from './helpers/processes.ts'
import { tempDir } from './helpers/test-node.ts'

const TOTAL = 3000
const CHUNK = 100
/** the appender stays at most this many lines ahead of the stored decisions, so a kill always finds work */
const AHEAD = 300
/** SIGKILL once the stored decisions pass each of these */
const KILL_AT = [800, 1900]
/**
 * A count that has not moved for this long means lines are lost, not late: a loaded CI machine can starve the
 * node for seconds (100 polls of 20 ms, the window before, ended runs that were only slow).
 */
const STALL_MS = 30_000

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
function syslogNow(): string {
  const d = new Date()
  const p = (n: number) => String(n).padStart(2, '0')
  return `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`
}
/** one address per line, each distinct (198.18.0.0/15, the benchmarking range) */
const address = (i: number) => `198.18.${i >> 8}.${i & 255}`
const failedLogin = (i: number) =>
  `${syslogNow()} web-1 sshd[${4000 + i}]: Failed password for root from ${address(i)} port ${40000 + (i % 20000)} ssh2\n`

describe('kill -9 while following a log', () => {
  const started: RunningProcess[] = []
  const dirs: string[] = []
  afterAll(async () => {
    for (const p of started) await stopProcess(p, 'SIGKILL')
    for (const d of dirs) await rm(d, { recursive: true, force: true })
  })

  it(`twice during ingest of ${TOTAL} decision lines: none lost, none twice, every alert published`, async () => {
    const dataDir = await tempDir()
    const logs = await tempDir('shieldwall-logs-')
    dirs.push(dataDir, logs)
    const log = join(logs, 'auth.log')
    await writeFile(log, '')
    const config = join(logs, 'shieldwall.json')
    // every failed login is a ban of its own: one line, one decision, one alert
    await writeDecisionPerLineConfig(config, log)
    const args = loopbackNodeArgs(config, dataDir)
    const start = async () => {
      const p = await startProcess(args)
      started.push(p)
      return p
    }
    const status = async (p: RunningProcess): Promise<any> => {
      const token = (await readFile(join(dataDir, 'api-token'), 'utf8')).trim()
      const res = await fetch(p.ready.api + '/api/defense/network/status', {
        headers: { authorization: `Bearer ${token}` },
      })
      return await res.json()
    }
    const stored = async (p: RunningProcess): Promise<number> => (await status(p)).counts.decisionsStored

    let appended = 0
    const appendChunk = async () => {
      const n = Math.min(CHUNK, TOTAL - appended)
      let text = ''
      for (let i = 0; i < n; i++) text += failedLogin(appended + i)
      await appendFile(log, text)
      appended += n
    }

    let node = await start()
    const kills: number[] = []
    const dead: RunningProcess[] = []
    for (const killAt of [...KILL_AT, Infinity]) {
      // feed the node while it follows, a few chunks ahead of what it has stored, until the next kill point
      let count = await stored(node)
      let movedAt = Date.now()
      while (count < killAt && (appended < TOTAL || (count < TOTAL && Date.now() - movedAt < STALL_MS))) {
        if (appended < TOTAL && appended - count < AHEAD) await appendChunk()
        else await new Promise((r) => setTimeout(r, 20))
        const next = await stored(node)
        if (next !== count) movedAt = Date.now()
        count = next
      }
      if (killAt === Infinity) break
      await stopProcess(node, 'SIGKILL')
      kills.push(count)
      dead.push(node)
      // the service keeps logging while the node is down
      if (appended < TOTAL) await appendChunk()
      node = await start()
    }
    expect(kills).toHaveLength(KILL_AT.length)
    // every decision is stored; let the last ones' announcements (alerts, local blocks) finish
    let blockedLocally = -1
    for (let movedAt = Date.now(); blockedLocally < TOTAL && Date.now() - movedAt < STALL_MS;) {
      const now: number = (await status(node)).blocklist.stats.byOrigin.local
      if (now !== blockedLocally) movedAt = Date.now()
      blockedLocally = now
      await new Promise((r) => setTimeout(r, 20))
    }
    expect(await stopProcess(node)).toBe(0)
    // what each restart found: decisions stored whose announcement (alert, local block) the kill had cut off
    const announced = [...dead.slice(1), node].map((p) => {
      const line = p
        .stderr()
        .split('\n')
        .find((l) => l.includes('not fully announced'))
      if (line === undefined) return { pending: 0, published: 0, linked: 0 }
      const { pending, published, linked } = JSON.parse(line) as Record<string, number>
      return { pending: pending!, published: published!, linked: linked! }
    })

    const db = await openStore(dataDir)
    try {
      const decisionStore = new DecisionStore(db)
      const decisions: StoredDecision[] = (await decisionStore.list({ limit: 2 * TOTAL + 10 })).items
      const alerts: StoredAlert[] = (await new AlertStore(db).list({ limit: 2 * TOTAL + 10 })).items
      const pending: StoredDecision[] = []
      for await (const d of decisionStore.pending()) pending.push(d)
      const ips = new Set(decisions.map((d) => d.ip))
      const report = {
        appended,
        decisions: decisions.length,
        distinct: ips.size,
        lost: TOTAL - ips.size,
        duplicated: decisions.length - ips.size,
        withoutAlert: decisions.filter((d) => d.alertId === undefined).length,
        alerts: alerts.length,
        pending: pending.length,
        killedAt: kills,
        announcedAtRestart: announced,
        blockedLocally,
      }
      console.log(`ingest under kill -9: ${JSON.stringify(report)}`)
      expect(appended).toBe(TOTAL)
      expect(report).toMatchObject({ lost: 0, duplicated: 0, withoutAlert: 0, pending: 0 })
      // and each is blocked here: a kill between an alert and its local block is finished at the restart
      expect(blockedLocally).toBe(TOTAL)
      // the kills landed while alerts were being published (the appender keeps the node busy), so the
      // restarts had work to finish: the path under test was taken
      expect(announced.reduce((n, a) => n + a.pending, 0)).toBeGreaterThan(0)
      for (let i = 0; i < TOTAL; i++) expect(ips.has(address(i))).toBe(true)
      // each decision's alert is stored, signed by this node, about its address; no alert twice
      const byId = new Map(alerts.map((a) => [a.id, a]))
      for (const d of decisions) {
        expect(byId.get(d.alertId!)).toMatchObject({ indicator: d.ip, scenario: 'ssh-bf', origin: 'local' })
      }
      expect(alerts).toHaveLength(TOTAL)
      expect(new Set(alerts.map((a) => a.indicator)).size).toBe(TOTAL)
      expect(new Set(alerts.map((a) => a.sender)).size).toBe(1)
      const limits = { maxBytes: 16_384, maxClockSkewMs: 30_000, maxTtlMs: 30 * 86_400_000 }
      for (const a of alerts) {
        const bytes = Buffer.from(a.envelope, 'base64')
        expect(validateEnvelope(bytes, TOPIC_MESSAGES[TOPICS.alerts], Date.now(), limits).action).toBe(
          'accept',
        )
      }
    } finally {
      await db.close()
    }
  }, 240_000)
})
