import { rm } from 'node:fs/promises'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { peerIdFromEd25519PublicKey } from '../crypto/identity/peer-id.ts'
import { AlertStore } from '../node/alerts/alert-store.ts'
import type { AlertService } from '../node/alerts/alert-service.ts'
import { blocklist, type Blocklist } from '../node/blocklist/blocklist.ts'
import { communityDefense, type CommunityDefense } from '../node/defense/community-defense.ts'
import type { DetectionService } from '../node/detect/detection-service.ts'
import { silentLogger } from '../node/logging/logger.ts'
import { corroborationTracker } from '../node/reputation/corroboration-tracker.ts'
import { reputationBook, type ReputationBook } from '../node/reputation/reputation-book.ts'
import { openStore, type Store } from '../node/store/open-store.ts'
import { encodeEnvelope } from '../protocol/envelope/envelope.ts'
import type { BlocklistSummaryBody } from '../protocol/messages/blocklist-summary.ts'
import { sealedAlert, signer, type Signer } from './helpers/hostile-peer.ts'
import { tempDir } from './helpers/test-node.ts'

/**
 * Issue 15, finding 4, scaled down: between two trusted peers' alerts about one address, fresh keys send signed
 * summaries naming more addresses than the evidence book holds. The first trusted report must survive the flood,
 * so the second one blocks ("2 trusted voices agree"), as it does without the flood.
 */

const ADDRESS = '203.0.113.77'
/** the book's capacity for this run; the flood names three times as many addresses */
const CAPACITY = 1_500
const FRESH_KEYS = 60
const SUMMARIES_PER_KEY = 5
const ENTRIES_PER_SUMMARY = 20

let dir: string
let store: Store
let now: number
let book: ReputationBook
let list: Blocklist
let alerts: AlertStore
let defense: CommunityDefense

const peerIdOf = (s: Signer) => peerIdFromEd25519PublicKey(s.publicKey).toString()

beforeEach(async () => {
  dir = await tempDir('sw-evict-')
  store = await openStore(dir)
  now = 1_800_000_000_000
  const clock = () => now
  book = reputationBook()({ store, clock })
  await book.open()
  list = blocklist({ maxEvidenceIndicators: CAPACITY })({ store, clock, trustOf: (p) => book.trust(p) })
  await list.open()
  alerts = new AlertStore(store)
  await alerts.open()
  defense = communityDefense()({
    blocklist: list,
    book,
    tracker: corroborationTracker()({ book, clock }),
    // start() is never called: only the intake paths for peers' alerts and summaries run here
    alerts: undefined as unknown as AlertService,
    detection: undefined as unknown as DetectionService,
    peerIdOfSender: (hex) => peerIdFromEd25519PublicKey(Buffer.from(hex, 'hex')).toString(),
    logger: silentLogger(),
    clock,
  })
})

afterEach(async () => {
  await list.stop()
  await book.stop()
  await store.close()
  await rm(dir, { recursive: true, force: true })
})

/** a trusted peer's signed alert about ADDRESS, stored as gossip delivers it, then weighed */
async function trustedAlert(by: Signer) {
  const envelope = sealedAlert(by, { seq: 1, createdAt: now, body: { indicator: ADDRESS } }, now)
  const stored = await alerts.put(envelope, encodeEnvelope(envelope), 'gossip', now)
  await defense.onPeerAlert(stored)
}

/** two peers pinned trusted */
async function trustedPair(): Promise<[Signer, Signer]> {
  const pair: [Signer, Signer] = [signer(), signer()]
  for (const s of pair) await book.pin(peerIdOf(s), 'trusted')
  return pair
}

async function flood(): Promise<number> {
  let named = 0
  for (let k = 0; k < FRESH_KEYS; k++) {
    const reporter = peerIdOf(signer())
    for (let s = 0; s < SUMMARIES_PER_KEY; s++) {
      const entries = []
      for (let e = 0; e < ENTRIES_PER_SUMMARY; e++, named++) {
        entries.push({
          value: `198.${18 + (named >> 16)}.${(named >> 8) & 255}.${named & 255}`,
          score: 0.95,
          scenario: 'ssh-bf',
          expiresAt: now + 3_600_000,
        })
      }
      const body: BlocklistSummaryBody = {
        entries,
        generatedAt: now,
        total: entries.length,
        truncated: false,
      }
      await defense.onSummary(reporter, body)
      now += 100
    }
  }
  return named
}

describe('evidence slots bounded by trust (issue 15, finding 4)', () => {
  it('a flood of summaries from fresh keys does not evict a trusted report: the second trusted voice blocks', async () => {
    const [a, b] = await trustedPair()
    await trustedAlert(a)
    expect(list.lookup(ADDRESS)).toHaveLength(0)
    const named = await flood()
    expect(named).toBeGreaterThan(2 * CAPACITY)

    await trustedAlert(b)
    const entries = list.lookup(ADDRESS)
    expect(entries).toHaveLength(1)
    expect(entries[0].origin).toBe('community')
    expect(list.evidence.weigh(ADDRESS)?.reasons.at(-1)).toMatch(/^blocked: 2 trusted voices agree/)
    const stats = list.evidence.stats()
    // the book had been full and evicted: the flood's own indicators, not the trusted one
    expect(stats.indicators).toBeLessThanOrEqual(CAPACITY)
    expect(stats.evictedIndicators).toBeGreaterThan(CAPACITY)
    expect(stats.evictedTrustedIndicators).toBe(0)
  })

  it('control: without the flood the two trusted voices block', async () => {
    const [a, b] = await trustedPair()
    await trustedAlert(a)
    await trustedAlert(b)
    expect(list.lookup(ADDRESS)).toHaveLength(1)
  })
})
