/**
 * Setups where every failed ssh login is a decision of its own (ssh-bf capacity 0, only the scenario detector
 * speaks): one line, one decision, one alert. Shared by the ingest tests and the live ingest benchmarks
 * (bench/detect/), which measure the same pipeline the tests check.
 */
import { writeFile } from 'node:fs/promises'
import { DetectSchema } from '../../config/schema.ts'
import { getPublicKey } from '../../crypto/signing/ed25519.ts'
import { alertService, type AlertService } from '../../node/alerts/alert-service.ts'
import { AlertStore } from '../../node/alerts/alert-store.ts'
import { DecisionStore } from '../../node/decisions/decision-store.ts'
import { silentLogger } from '../../node/logging/logger.ts'
import type { ShieldwallHost } from '../../node/p2p/create-host.ts'
import type { Store } from '../../node/store/open-store.ts'
import { SequenceCounter } from '../../node/store/sequence-counter.ts'

/** the detect config, parsed, for a DetectionService built in process */
export const DECISION_PER_LINE_DETECT = DetectSchema.parse({
  scenarios: { 'ssh-bf': { capacity: 0 } },
  stats: { enabled: false },
  anomaly: { enabled: false },
  sightings: { enabled: false },
})

/**
 * Writes a config file for `shieldwall start` that follows the sshd log `log` from its beginning, bans on every
 * failed login, and does not learn.
 */
export async function writeDecisionPerLineConfig(path: string, log: string): Promise<void> {
  await writeFile(
    path,
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
}

/** `shieldwall start` arguments for a node with this config and data dir, its API and p2p on loopback */
export function loopbackNodeArgs(config: string, dataDir: string): string[] {
  return [
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
  ]
}

/** The stores and the alert service a DetectionService writes to, opened on `db`, alerts signed with `secretKey`. */
export async function openAlertPipeline(
  db: Store,
  pubsub: ShieldwallHost['services']['pubsub'],
  secretKey: Uint8Array,
): Promise<{
  decisions: DecisionStore
  alertStore: AlertStore
  sequence: SequenceCounter
  alerts: AlertService
}> {
  const decisions = new DecisionStore(db)
  await decisions.open()
  const alertStore = new AlertStore(db)
  await alertStore.open()
  const sequence = new SequenceCounter(db)
  await sequence.open()
  const alerts = alertService()({
    pubsub,
    alerts: alertStore,
    sequence,
    secretKey,
    publicKey: getPublicKey(secretKey),
    logger: silentLogger(),
  })
  return { decisions, alertStore, sequence, alerts }
}
