import { generateKeyPair } from '@libp2p/crypto/keys'
import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DetectSchema } from '../../config/schema.ts'
import { generateSecretKey } from '../../crypto/signing/ed25519.ts'
import { DECISION_PER_LINE_DETECT, openAlertPipeline } from '../../test/helpers/decision-per-line.ts'
import { tempDir, waitFor } from '../../test/helpers/test-node.ts'
import type { StoredAlert } from '../alerts/alert-store.ts'
import type { StoredDecision } from '../decisions/decision-store.ts'
import { LevelOffsetStore } from '../ingest/follow/offset-store.ts'
import { silentLogger } from '../logging/logger.ts'
import { createHost, type ShieldwallHost } from '../p2p/create-host.ts'
import { openStore, type Store } from '../store/open-store.ts'
import { createDetectionEngine } from './create-engine.ts'
import { detectionService, type DetectionService } from './detection-service.ts'

/** every failed ssh login is a decision, and only the scenario detector speaks */
const DETECT = DECISION_PER_LINE_DETECT

const LINES = 200
// public (documentation) addresses: a private one is decided on but never published
const ip = (i: number) => `198.51.100.${i}`
const failedLogin = (i: number) =>
  `Dec  7 23:00:00 web-1 sshd[${1000 + i}]: Failed password for root from ${ip(i)} port ${40000 + i} ssh2\n`

class SimulatedCrash extends Error {
  override name = 'SimulatedCrash'
}

type Write = { kind: 'put' | 'del' | 'batch'; keys: string[]; values: string[] }

/**
 * The real store, cut off like a killed process: once `after` has seen a write that succeeded, every later
 * write fails, so what is on disk is exactly what a `kill -9` at that instant would have left.
 */
function crashAfter(
  db: Store,
  after: (w: Write) => boolean,
): { crashed: () => boolean; crashNow: () => void } {
  let crashed = false
  const inner = db as unknown as Record<string, (...args: any[]) => Promise<void>>
  for (const kind of ['_put', '_del', '_batch'] as const) {
    const original = inner[kind]!.bind(db)
    inner[kind] = async (...args: any[]) => {
      if (crashed) throw new SimulatedCrash('the process is dead')
      await original(...args)
      const w: Write =
        kind === '_batch'
          ? {
              kind: 'batch',
              keys: args[0].map((op: any) => String(op.key)),
              values: args[0].map((op: any) => String(op.value ?? '')),
            }
          : {
              kind: kind === '_put' ? 'put' : 'del',
              keys: [String(args[0])],
              values: [String(args[1] ?? '')],
            }
      if (after(w)) crashed = true
    }
  }
  return { crashed: () => crashed, crashNow: () => (crashed = true) }
}

describe('DetectionService across a crash (kill -9 simulated on a real level store)', () => {
  let host: ShieldwallHost
  const secretKey = generateSecretKey()
  const dirs: string[] = []

  beforeAll(async () => {
    host = await createHost({
      privateKey: await generateKeyPair('Ed25519'),
      listen: [`/memory/detection-service-${process.pid}`],
      dht: { enabled: false, protocolPrefix: '/shieldwall' },
    })
  })
  afterAll(async () => {
    await host.stop()
    for (const d of dirs) await rm(d, { recursive: true, force: true })
  })

  /** One life of a node's detection: its own engine (state is rebuilt from scratch), the shared data dir. */
  async function life(
    dataDir: string,
    log: string,
    crash?: (w: Write) => boolean,
    detect: typeof DETECT = DETECT,
    listener?: (d: StoredDecision) => unknown,
  ) {
    const db = await openStore(dataDir)
    const cut = crash !== undefined ? crashAfter(db, crash) : undefined
    const { decisions, alertStore, alerts } = await openAlertPipeline(db, host.services.pubsub, secretKey)
    let service: DetectionService | undefined
    service = detectionService({
      sources: [{ path: log, format: 'sshd', startAt: 'beginning' }],
    })({
      engine: createDetectionEngine(detect, { onSighting: (f) => service?.sight(f) }),
      decisions,
      alerts,
      alertStore,
      offsets: new LevelOffsetStore(db),
      logger: silentLogger(),
    })
    const told: StoredDecision[] = []
    service.onDecision((d) => told.push(d))
    if (listener !== undefined) service.onDecision(listener)
    await service.start()
    const started = service
    return {
      db,
      service: started,
      decisions,
      alertStore,
      told,
      crashed: () => cut?.crashed() ?? false,
      crashNow: () => cut?.crashNow(),
      async end() {
        await started.stop()
        await db.close()
      },
    }
  }

  async function everything(l: Awaited<ReturnType<typeof life>>) {
    const ds: StoredDecision[] = (await l.decisions.list({ limit: 10_000 })).items
    const alerts: StoredAlert[] = (await l.alertStore.list({ limit: 10_000 })).items
    const pending: StoredDecision[] = []
    for await (const d of l.decisions.pending()) pending.push(d)
    return { ds, alerts, pending }
  }

  async function setup() {
    const dataDir = await tempDir()
    const logs = await tempDir('shieldwall-logs-')
    dirs.push(dataDir, logs)
    const log = join(logs, 'auth.log')
    await writeFile(log, Array.from({ length: LINES }, (_, i) => failedLogin(i)).join(''))
    return { dataDir, log }
  }

  it('stores no offset ahead of the decisions: dead right after the offset is written, nothing is lost', async () => {
    const { dataDir, log } = await setup()
    // the first write that moves the stored offset past the lines read
    const offsetMoved = (w: Write) =>
      w.keys.some((k, i) => k.startsWith('!ingest-offsets!') && JSON.parse(w.values[i]!).offset > 0)
    const first = await life(dataDir, log, offsetMoved)
    await waitFor(() => first.crashed(), 10_000, 'the offset to be stored')
    await first.end()

    const second = await life(dataDir, log)
    try {
      // dead before any alert was stored: every decision is still pending, and start-up publishes them all
      await waitFor(async () => (await everything(second)).ds.length >= LINES, 10_000, 'all decisions')
      const { ds, alerts, pending } = await everything(second)
      expect(ds).toHaveLength(LINES)
      expect(new Set(ds.map((d) => d.ip)).size).toBe(LINES)
      expect(pending).toHaveLength(0)
      expect(alerts).toHaveLength(LINES)
      const alertIds = new Map(alerts.map((a) => [a.id, a]))
      for (const d of ds) expect(alertIds.get(d.alertId!)?.indicator).toBe(d.ip)
      // the listeners (community defense, webhooks) hear of each decision whose alert start-up published
      expect(new Set(second.told.map((d) => d.ip)).size).toBe(LINES)
    } finally {
      await second.end()
    }
  })

  it('publishes an alert stored just before the crash once: start-up links it instead of signing another', async () => {
    const { dataDir, log } = await setup()
    // dead right after the first alert is stored, before its decision is linked to it
    const alertStored = (w: Write) => w.keys.some((k) => k.startsWith('!alerts!'))
    const first = await life(dataDir, log, alertStored)
    await waitFor(() => first.crashed(), 10_000, 'the first alert to be stored')
    await first.end()

    const second = await life(dataDir, log)
    try {
      const { ds, alerts, pending } = await everything(second)
      expect(ds).toHaveLength(LINES)
      expect(pending).toHaveLength(0)
      expect(alerts).toHaveLength(LINES)
      expect(new Set(alerts.map((a) => a.indicator)).size).toBe(LINES)
      const alertIds = new Map(alerts.map((a) => [a.id, a]))
      for (const d of ds) expect(alertIds.get(d.alertId!)?.indicator).toBe(d.ip)
    } finally {
      await second.end()
    }
  })

  it('POST /api/events path: a decision whose alert the crash prevented is published at the next start', async () => {
    const { dataDir } = await setup()
    const logs = await tempDir('shieldwall-logs-')
    dirs.push(logs)
    const empty = join(logs, 'empty.log')
    await writeFile(empty, '')
    const decisionStored = (w: Write) => w.keys.some((k) => k.startsWith('!decisions!'))
    const first = await life(dataDir, empty, decisionStored)
    const event = (i: number) => ({
      ip: `192.0.2.${i}`,
      kind: 'auth_failure' as const,
      service: 'ssh' as const,
      user: 'root',
      time: Date.now(),
      source: 'api',
    })
    const decided = await first.service.ingest([event(1), event(2)])
    // stored, not announced: the process "died" right after the decision batch
    expect(decided.map((d) => d.ip)).toEqual(['192.0.2.1', '192.0.2.2'])
    expect(decided.every((d) => d.alertId === undefined)).toBe(true)
    await first.end()

    const second = await life(dataDir, empty)
    try {
      const { ds, alerts, pending } = await everything(second)
      expect(ds.map((d) => d.ip).sort()).toEqual(['192.0.2.1', '192.0.2.2'])
      expect(pending).toEqual([])
      expect(alerts.map((a) => a.indicator).sort()).toEqual(['192.0.2.1', '192.0.2.2'])
    } finally {
      await second.end()
    }
  })

  it('sightings: the offset after a line that raised one is stored only once its alert is', async () => {
    const { dataDir, log } = await setup()
    // the ssh scenarios as shipped: three failed logins from one address fill half a bucket, no ban
    await writeFile(log, [0, 1, 2].map(() => failedLogin(7)).join(''))
    const sightings = DetectSchema.parse({ stats: { enabled: false }, anomaly: { enabled: false } })
    const offsetMoved = (w: Write) =>
      w.keys.some((k, i) => k.startsWith('!ingest-offsets!') && JSON.parse(w.values[i]!).offset > 0)
    const first = await life(dataDir, log, offsetMoved, sightings)
    await waitFor(() => first.crashed(), 10_000, 'the offset to be stored')
    await first.end()

    const second = await life(dataDir, log, undefined, sightings)
    try {
      const { ds, alerts } = await everything(second)
      expect(ds).toEqual([])
      expect(alerts).toHaveLength(1)
      expect(alerts[0]).toMatchObject({
        indicator: ip(7),
        scenario: expect.stringMatching(/^ssh-/),
        origin: 'local',
      })
      expect(alerts[0]!.confidence).toBeLessThan(0.5)
    } finally {
      await second.end()
    }
  })

  it('keeps a decision pending until its listeners’ writes (the local block) are done: a restart tells them again', async () => {
    const { dataDir, log } = await setup()
    let release!: () => void
    const blockWritten = new Promise<void>((r) => (release = r))
    // the community defense's listener resolves once the block is on disk; here the disk never gets it
    const first = await life(
      dataDir,
      log,
      () => false,
      DETECT,
      () => blockWritten,
    )
    await waitFor(
      () => first.alertStore.count === LINES && first.told.length === LINES,
      10_000,
      'every alert',
    )
    first.crashNow()
    release()
    await first.end()

    const second = await life(dataDir, log)
    try {
      const { ds, alerts, pending } = await everything(second)
      expect(pending).toEqual([])
      // told again, each once, and no alert signed twice: the ones stored are linked
      expect(second.told.map((d) => d.ip).sort()).toEqual(ds.map((d) => d.ip).sort())
      expect(second.told).toHaveLength(LINES)
      expect(alerts).toHaveLength(LINES)
      const alertIds = new Map(alerts.map((a) => [a.id, a]))
      for (const d of ds) expect(alertIds.get(d.alertId!)?.indicator).toBe(d.ip)
    } finally {
      await second.end()
    }
  })
})
