import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { peerIdFromEd25519PublicKey } from '../../crypto/identity/peer-id.ts'
import { generateSecretKey, getPublicKey } from '../../crypto/signing/ed25519.ts'
import { AlertStore } from '../../node/alerts/alert-store.ts'
import { blocklist } from '../../node/blocklist/blocklist.ts'
import { openStore, type Store } from '../../node/store/open-store.ts'
import { encodeEnvelope, sealEnvelope, type Envelope } from '../../protocol/envelope/envelope.ts'
import { ALERT_TYPE, ALERT_VERSION, type AlertBody } from '../../protocol/messages/alert.ts'

/**
 * `node bench/storage/trust-bounds.ts`: the figures behind issue 15, findings 4 and 6, at full scale.
 *
 * 1. Evidence: between two trusted peers' reports of one address, 18 fresh keys send 108 summaries naming
 *    108,000 addresses into the node's real Blocklist (evidence book of the default 100,000 indicators), as in
 *    the finding; then 150 keys 1,000 each (past the untrusted pool's 50,000). Prints the time, the book's
 *    counts and whether the address was blocked.
 * 2. Alert store: 50,000 alerts from 500 keys into a store capped at 20,000 (puts per second, final count);
 *    a prune of 50,000 expired alerts (one call); and open() on a store of 50,000 alerts against walking its
 *    keys, which is what open() did before.
 *
 * BENCH_ALERTS changes the alert count.
 */

const ALERTS = Number(process.env.BENCH_ALERTS ?? 50_000)
const NOW = Date.now()

async function withStore<T>(f: (db: Store) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'sw-bench-bounds-'))
  const db = await openStore(dir)
  try {
    return await f(db)
  } finally {
    await db.close()
    await rm(dir, { recursive: true, force: true })
  }
}

function ms(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6
}

async function evidenceFlood(keys: number, perKey: number): Promise<void> {
  await withStore(async (db) => {
    const trust = new Map<string, number>()
    const list = blocklist()({ store: db, clock: () => NOW, trustOf: (p) => trust.get(p) ?? 0.04 })
    await list.open()
    trust.set('trusted-a', 1).set('trusted-b', 1)
    const address = '203.0.113.77'
    const report = (reporter: string) => ({
      reporter,
      confidence: 0.95,
      scenario: 'ssh-bf',
      severity: 'high' as const,
      at: NOW,
    })
    await list.evidence.addReport(address, report('trusted-a'))
    const start = process.hrtime.bigint()
    let named = 0
    for (let k = 0; k < keys; k++) {
      const reporter = peerIdFromEd25519PublicKey(getPublicKey(generateSecretKey())).toString()
      for (let s = 0; s < perKey / 1000; s++) {
        for (let e = 0; e < 1000; e++, named++) {
          const value = `10${(named >> 16) + 1}.${(named >> 8) & 255}.${named & 255}.1`
          await list.evidence.addReport(value, { ...report(reporter), confidence: 0.475, standIn: true })
        }
      }
    }
    const floodMs = ms(start)
    const outcome = await list.evidence.addReport(address, report('trusted-b'))
    const stats = list.evidence.stats()
    console.log(
      `evidence flood: ${named} addresses from ${keys} fresh keys in ${floodMs.toFixed(0)} ms;` +
        ` book ${stats.indicators} indicators (${stats.trustedIndicators} trusted),` +
        ` evicted ${stats.evictedIndicators} indicators (${stats.evictedTrustedIndicators} trusted),` +
        ` ${stats.evictedOverReporterSlots} reports over their reporter's slots;` +
        ` second trusted report: ${outcome?.action ?? 'nothing'}` +
        ` (${list.evidence.weigh(address)?.reasons.at(-1) ?? 'no evidence'})`,
    )
    await list.stop()
  })
}

/** one signed envelope per key, reused with another seq and unique bytes: the store does not verify */
function envelopes(keys: number): { envelope: Envelope<AlertBody>; bytes: Uint8Array }[] {
  return Array.from({ length: keys }, () => {
    const secretKey = generateSecretKey()
    const envelope = sealEnvelope<AlertBody>(
      {
        type: ALERT_TYPE,
        version: ALERT_VERSION,
        sender: getPublicKey(secretKey),
        seq: 1,
        createdAt: NOW,
        expiresAt: NOW + 3_600_000,
        body: {
          indicator: '198.18.0.1',
          scenario: 'ssh-bf',
          severity: 'high',
          confidence: 1,
          events: 1,
          windowSeconds: 0,
          firstSeen: NOW,
          lastSeen: NOW,
        },
      },
      secretKey,
    )
    return { envelope, bytes: encodeEnvelope(envelope) }
  })
}

async function fill(store: AlertStore, n: number, keys: number, expiresAt: number): Promise<number> {
  const pool = envelopes(keys)
  const start = process.hrtime.bigint()
  for (let i = 0; i < n; i++) {
    const { envelope, bytes } = pool[i % keys]
    const seq = Math.floor(i / keys) + 1
    const unique = new Uint8Array(bytes.length + 4)
    unique.set(bytes)
    new DataView(unique.buffer).setUint32(bytes.length, i)
    await store.put({ ...envelope, seq, expiresAt }, unique, 'gossip', NOW + i)
  }
  return ms(start)
}

async function alertStore(): Promise<void> {
  await withStore(async (db) => {
    const store = new AlertStore(db, { maxStored: 20_000 })
    await store.open()
    const took = await fill(store, ALERTS, 500, NOW + 3_600_000)
    const s = store.stats()
    console.log(
      `capped store: ${ALERTS} alerts from 500 keys, cap 20,000: ${((ALERTS / took) * 1000).toFixed(0)} puts/s;` +
        ` kept ${s.count}, evicted ${s.evicted}, over allowance ${s.evictedOverAllowance}, dropped ${s.dropped}`,
    )
  })
  await withStore(async (db) => {
    const store = new AlertStore(db, { maxStored: 1_000_000, minPerSender: 1_000_000 })
    await store.open()
    await fill(store, ALERTS, 50, NOW)
    const start = process.hrtime.bigint()
    const pruned = await store.prune(NOW + 1, 0)
    console.log(
      `prune: ${pruned} expired alerts in one call, ${ms(start).toFixed(0)} ms; ${store.count} left`,
    )
    await fill(store, ALERTS, 50, NOW + 3_600_000)
    const open = process.hrtime.bigint()
    const reopened = new AlertStore(db)
    await reopened.open()
    const openMs = ms(open)
    const walk = process.hrtime.bigint()
    let n = 0
    for await (const _ of db.sublevel('alerts').keys()) n++
    console.log(
      `open: ${reopened.count} alerts counted in ${openMs.toFixed(1)} ms;` +
        ` walking the ${n} keys (what open did before) ${ms(walk).toFixed(0)} ms`,
    )
  })
}

await evidenceFlood(18, 6000)
await evidenceFlood(150, 1000)
await alertStore()
