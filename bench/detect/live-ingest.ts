/**
 * Live ingest throughput of DetectionService: a followed sshd log in a temp dir, a real level store, a real
 * AlertService on a real libp2p host (no peers: alerts are signed and stored, the gossip send finds no one).
 *
 * - decisions: N lines, one distinct address each, every one a decision (ssh-bf capacity 0), appended at once;
 *   timed until every decision is stored with its alert.
 * - quiet: M lines from addresses already banned (no decision), appended at once; timed until all are parsed.
 *
 * - latency: then 20 single decision lines, one at a time; the median time from the append until its alert is
 *   stored.
 *
 * Prints lines/s for each and the median latency, per run.
 *
 *   node bench/detect/live-ingest.ts [decisionLines=3000] [quietLines=200000] [runs=3]
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateSecretKey } from '../../crypto/signing/ed25519.ts'
import { createDetectionEngine } from '../../node/detect/create-engine.ts'
import { detectionService } from '../../node/detect/detection-service.ts'
import { LevelOffsetStore } from '../../node/ingest/follow/offset-store.ts'
import { silentLogger } from '../../node/logging/logger.ts'
import { createHost } from '../../node/p2p/create-host.ts'
import { openStore } from '../../node/store/open-store.ts'
import { DECISION_PER_LINE_DETECT, openAlertPipeline } from '../../test/helpers/decision-per-line.ts'

const DECISIONS = Number(process.argv[2] ?? 3000)
const QUIET = Number(process.argv[3] ?? 200_000)
const RUNS = Number(process.argv[4] ?? 3)

const DETECT = DECISION_PER_LINE_DETECT
// Addresses from the benchmarking range 198.18.0.0/15 (131,072 of them): a private range would be decided but,
// since the node never publishes what it would never block, never get the alert the bench waits for. Each run
// has its own store and engine, so runs may reuse them.
const line = (i: number, _run: number) =>
  `Dec  7 23:00:00 web-1 sshd[${1000 + (i % 30000)}]: Failed password for root from ` +
  `198.${18 + ((i >> 16) & 1)}.${(i >> 8) & 255}.${i & 255} port ${40000 + (i % 20000)} ssh2\n`

const host = await createHost({
  privateKey: await generateKeyPair('Ed25519'),
  listen: [`/memory/live-ingest-bench-${process.pid}`],
  dht: { enabled: false, protocolPrefix: '/shieldwall' },
})
const secretKey = generateSecretKey()

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 2))
}

for (let run = 0; run < RUNS; run++) {
  const dir = await mkdtemp(join(tmpdir(), 'shieldwall-live-ingest-'))
  try {
    const log = join(dir, 'auth.log')
    await writeFile(log, '')
    const db = await openStore(join(dir, 'data'))
    const { decisions, alertStore, alerts } = await openAlertPipeline(db, host.services.pubsub, secretKey)
    const service = detectionService({ sources: [{ path: log, format: 'sshd', startAt: 'beginning' }] })({
      engine: createDetectionEngine(DETECT),
      decisions,
      alerts,
      alertStore,
      offsets: new LevelOffsetStore(db),
      logger: silentLogger(),
    })
    await service.start()
    const parsed = () => service.sources()[0]!.lines

    let text = ''
    for (let i = 0; i < DECISIONS; i++) text += line(i, run)
    let t0 = performance.now()
    await appendFile(log, text)
    await until(() => decisions.count === DECISIONS && alertStore.count === DECISIONS)
    const decidedS = (performance.now() - t0) / 1000

    text = ''
    for (let i = 0; i < QUIET; i++) text += line(i % DECISIONS, run)
    t0 = performance.now()
    await appendFile(log, text)
    await until(() => parsed() === DECISIONS + QUIET)
    const quietS = (performance.now() - t0) / 1000

    const latencies: number[] = []
    for (let i = 0; i < 20; i++) {
      const before = alertStore.count
      t0 = performance.now()
      await appendFile(log, line(DECISIONS + i, run))
      await until(() => alertStore.count > before)
      latencies.push(performance.now() - t0)
    }
    latencies.sort((a, b) => a - b)
    await service.stop()
    await db.close()
    console.log(
      `run ${run + 1}: ${DECISIONS} decision lines (stored with their alerts) in ${decidedS.toFixed(2)} s = ` +
        `${Math.round(DECISIONS / decidedS)} lines/s; ${QUIET} quiet lines in ${quietS.toFixed(2)} s = ` +
        `${Math.round(QUIET / quietS)} lines/s; one decision line to its stored alert: median ` +
        `${latencies[10]!.toFixed(1)} ms`,
    )
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
await host.stop()
