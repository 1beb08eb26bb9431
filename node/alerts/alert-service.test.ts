import { rm } from 'node:fs/promises'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { encodeEnvelope, type Envelope } from '../../protocol/envelope/envelope.ts'
import type { AlertBody } from '../../protocol/messages/alert.ts'
import { alertBytes, sealedAlert, signer } from '../../test/helpers/hostile-peer.ts'
import { tempDir } from '../../test/helpers/test-node.ts'
import { silentLogger } from '../logging/logger.ts'
import { openStore, type Store } from '../store/open-store.ts'
import { SequenceCounter } from '../store/sequence-counter.ts'
import { AlertStore } from './alert-store.ts'
import { alertService, FLOOD_SENDER_MARGIN, type AlertService } from './alert-service.ts'

const NOW = 1_780_000_000_000
const honest = signer()
const forger = signer()

/** An alert naming `honest` as its sender but signed by someone else. */
function forged(seq: number): Uint8Array {
  const env: Envelope<AlertBody> = sealedAlert(forger, { seq, sender: honest.publicKey }, NOW)
  return encodeEnvelope(env)
}

describe('AlertService intake: the order of the checks', () => {
  let dir: string
  let store: Store
  let service: AlertService

  beforeEach(async () => {
    dir = await tempDir()
    store = await openStore(dir)
    const alerts = new AlertStore(store)
    await alerts.open()
    const sequence = new SequenceCounter(store)
    await sequence.open()
    service = alertService({ maxPerSenderPerMinute: 3 })({
      // intake never touches pubsub; only start() and publish() do
      pubsub: undefined as never,
      alerts,
      sequence,
      secretKey: signer().secretKey,
      publicKey: signer().publicKey,
      logger: silentLogger(),
      clock: () => NOW,
    })
  })
  afterEach(async () => {
    await store.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('a forgery naming an honest sender does not spend that sender’s rate', async () => {
    for (let seq = 1; seq <= 10; seq++) {
      expect(await service.intake(forged(seq), 'gossip', { peer: 'p1' })).toMatchObject({
        reason: 'bad_signature',
      })
    }
    for (let seq = 11; seq <= 13; seq++) {
      expect((await service.intake(alertBytes(honest, { seq }, NOW), 'gossip')).action).toBe('accept')
    }
    // the rate is the honest sender's own three
    expect(await service.intake(alertBytes(honest, { seq: 14 }, NOW), 'gossip')).toMatchObject({
      reason: 'rate_limited',
    })
  })

  it('checks replay before the signature: a replayed (sender, seq) costs no verification', async () => {
    expect((await service.intake(alertBytes(honest, { seq: 1 }, NOW), 'gossip')).action).toBe('accept')
    const verified = service.counts.verified
    expect(await service.intake(forged(1), 'gossip')).toMatchObject({ reason: 'replayed' })
    expect(service.counts.verified).toBe(verified)
  })

  it('checks the per-sender rate before the signature', async () => {
    for (let seq = 1; seq <= 3; seq++) await service.intake(alertBytes(honest, { seq }, NOW), 'gossip')
    const verified = service.counts.verified
    expect(await service.intake(forged(4), 'gossip')).toMatchObject({ reason: 'rate_limited' })
    expect(await service.intake(alertBytes(honest, { seq: 5 }, NOW), 'gossip')).toMatchObject({
      reason: 'rate_limited',
    })
    expect(service.counts.verified).toBe(verified)
  })

  it('ignores a body that claims to have seen the attack after the alert was made, before verifying', async () => {
    const years = 3 * 365 * 86_400_000
    const verdict = await service.intake(
      alertBytes(honest, { seq: 1, body: { firstSeen: NOW, lastSeen: NOW + years } }, NOW),
      'gossip',
    )
    expect(verdict).toMatchObject({ action: 'ignore', reason: 'implausible_time' })
    expect(service.counts.verified).toBe(0)
  })

  it('bounds the verifications one forwarding peer gets, and rejects it once it floods', async () => {
    const verdicts: string[] = []
    // many senders, one forwarding peer: the per-sender rate never binds, the peer's budgets do
    for (let i = 0; i < 1000; i++) {
      const v = await service.intake(alertBytes(signer(), { seq: 1 }, NOW), 'gossip', { peer: 'p-flood' })
      verdicts.push(v.action === 'accept' ? 'accept' : v.reason)
    }
    const usage = service.peerUsage('p-flood')
    // a stranger (no trust wired): 20 verifications at once, the clock stands still
    expect(usage.verified.spent).toBe(20)
    expect(service.counts.verified).toBe(20)
    expect(verdicts.filter((v) => v === 'accept')).toHaveLength(20)
    // judging budget 200, then 200 over it ignored, then every further message is a flood
    expect(verdicts.slice(400)).toEqual(Array(600).fill('flood'))
  })

  it('rejects a peer relaying one sender far past the per-sender rate, before any verification', async () => {
    const sender = signer()
    const verdicts: string[] = []
    for (let seq = 1; seq <= FLOOD_SENDER_MARGIN * 3 + 5; seq++) {
      const v = await service.intake(alertBytes(sender, { seq }, NOW), 'gossip', { peer: 'p-relay' })
      verdicts.push(v.action === 'accept' ? 'accept' : v.reason)
    }
    expect(verdicts.slice(0, 3)).toEqual(['accept', 'accept', 'accept'])
    expect(verdicts.slice(3, FLOOD_SENDER_MARGIN * 3)).toEqual(
      Array(FLOOD_SENDER_MARGIN * 3 - 3).fill('rate_limited'),
    )
    expect(verdicts.slice(FLOOD_SENDER_MARGIN * 3)).toEqual(Array(5).fill('flood'))
    expect(service.counts.verified).toBe(3)
  })

  it('holds catch-up to a per-sender allowance, charged only for alerts whose signature verified', async () => {
    // forgeries naming the honest sender, fetched by catch-up: refused without touching its allowance
    for (let seq = 1; seq <= 100; seq++) await service.intake(forged(seq), 'sync')
    expect(service.counts.rejected.bad_signature).toBe(100)
    const verdicts: string[] = []
    for (let seq = 1001; seq <= 1600; seq++) {
      const v = await service.intake(alertBytes(honest, { seq }, NOW), 'sync')
      verdicts.push(v.action === 'accept' ? 'accept' : v.reason)
    }
    // an unknown sender: 500 stored at once (SYNC_ALLOWANCE_UNKNOWN), the rest wait, not free of the limit
    expect(verdicts.filter((v) => v === 'accept')).toHaveLength(500)
    expect(verdicts.slice(500)).toEqual(Array(100).fill('over_budget'))
  })
})
