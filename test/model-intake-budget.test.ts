import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { peerIdFromEd25519PublicKey } from '../crypto/identity/peer-id.ts'
import {
  MODEL_VERIFY_ALLOWANCE_TRUSTED,
  MODEL_VERIFY_ALLOWANCE_UNKNOWN,
  type ModelVerdict,
} from '../node/learning/federation/federation-service.ts'
import { allowanceFor } from '../node/p2p/peer-budget.ts'
import { schemaId } from '../node/learning/model/feature-schema-ref.ts'
import { modelHash } from '../node/learning/model/model-hash.ts'
import type { ShieldwallNode } from '../node/shieldwall-node.ts'
import { encodeEnvelope, sealEnvelope } from '../protocol/envelope/envelope.ts'
import {
  MODEL_ANNOUNCE_TYPE,
  MODEL_ANNOUNCE_VERSION,
  type ModelAnnounceBody,
} from '../protocol/messages/model-announce.ts'
import { signer, type Signer } from './helpers/hostile-peer.ts'
import { startTestNode, stopAndRemove } from './helpers/test-node.ts'

/**
 * Issue 15, "cheap checks before expensive ones everywhere", on the models topic: what the node's own state can
 * refuse is refused before the signature is checked, and one forwarding peer makes the node verify at most what
 * its trust allows, however many fresh senders it relays for.
 */
describe('model topic intake', () => {
  let node: ShieldwallNode
  let seq = 0

  function announce(by: Signer, round: number, opts: { forge?: boolean } = {}): Uint8Array {
    const model = node.learning.model
    const now = Date.now()
    const envelope = sealEnvelope<ModelAnnounceBody>(
      {
        type: MODEL_ANNOUNCE_TYPE,
        version: MODEL_ANNOUNCE_VERSION,
        sender: by.publicKey,
        seq: ++seq,
        createdAt: now,
        expiresAt: now + 600_000,
        body: {
          modelHash: modelHash(model),
          parentHash: null,
          round,
          schema: schemaId(model.schema),
          metrics: {},
        },
      },
      by.secretKey,
    )
    if (opts.forge) envelope.signature = new Uint8Array(envelope.signature.length).fill(7)
    return encodeEnvelope(envelope)
  }

  const relay = () => peerIdFromEd25519PublicKey(signer().publicKey).toString()

  beforeAll(async () => {
    node = await startTestNode({ cli: { learning: {} } })
  }, 90_000)
  afterAll(async () => {
    if (node !== undefined) await stopAndRemove(node)
  })

  it('refuses an announce from the future before checking its signature', () => {
    const verified = node.learning.counts.verified
    const verdict = node.learning.intake(announce(signer(), 1e12, { forge: true }), relay())
    expect(verdict).toMatchObject({ action: 'ignore', reason: 'wrong_round' })
    expect(node.learning.counts.verified).toBe(verified)
    // the same forgery with a round that fits is checked, and rejected for its signature
    const round = node.learning.status().round
    expect(node.learning.intake(announce(signer(), round, { forge: true }), relay())).toMatchObject({
      action: 'reject',
      reason: 'bad_signature',
    })
    expect(node.learning.counts.verified).toBe(verified + 1)
  })

  it("bounds one stranger's verifications by its budget, whatever the senders, and not a trusted peer's", async () => {
    const round = node.learning.status().round
    const stranger = relay()
    // a newcomer's allowance, from the trust the node gives an identity it has never heard of
    const budget = allowanceFor(
      node.reputation.trust(stranger),
      MODEL_VERIFY_ALLOWANCE_UNKNOWN,
      MODEL_VERIFY_ALLOWANCE_TRUSTED,
    )
    const sent = Math.ceil(budget.burst) + 100
    const messages = Array.from({ length: sent }, () => announce(signer(), round))
    const startedAt = Date.now()
    const verified = node.learning.counts.verified
    const verdicts: ModelVerdict[] = messages.map((bytes) => node.learning.intake(bytes, stranger))
    const elapsedS = (Date.now() - startedAt) / 1000
    const accepted = verdicts.filter((v) => v.action === 'accept').length
    // the allowance over the time it took: the burst plus what refilled meanwhile
    const allowance = budget.burst + budget.perSecond * elapsedS
    expect(node.learning.counts.verified - verified).toBeLessThanOrEqual(Math.ceil(allowance))
    expect(accepted).toBeLessThanOrEqual(Math.ceil(allowance))
    expect(accepted).toBeGreaterThanOrEqual(Math.floor(budget.burst))
    // the rest were dropped, not held against the stranger: an honest relay can be briefly over
    const dropped = verdicts.filter((v) => v.action === 'ignore' && v.reason === 'over_budget').length
    expect(dropped).toBe(sent - accepted)
    expect(verdicts.some((v) => v.action === 'reject')).toBe(false)

    // a peer the node trusts relays the same load in full
    const friend = signer()
    const friendId = peerIdFromEd25519PublicKey(friend.publicKey).toString()
    await node.reputation.pin(friendId, 'trusted')
    const more = Array.from({ length: sent }, () => announce(signer(), round))
    const trusted = more.map((bytes) => node.learning.intake(bytes, friendId))
    expect(trusted.filter((v) => v.action === 'accept').length).toBe(sent)
  })
})
