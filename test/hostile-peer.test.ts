import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ShieldwallNode } from '../node/shieldwall-node.ts'
import { encodeEnvelope } from '../protocol/envelope/envelope.ts'
import {
  createHostilePeer,
  sendAndJudge,
  signer,
  scoreOnNode,
  type HostilePeer,
} from './helpers/hostile-peer.ts'
import { api, startTestNode, stopAndRemove, waitFor } from './helpers/test-node.ts'

/**
 * A hostile peer speaking real gossipsub to a real node: every kind of bad message is refused for the right
 * reason, costs the sender gossipsub score when it is objectively invalid, and never hurts the node.
 */
describe('a node under a hostile peer', () => {
  let node: ShieldwallNode
  let hostile: HostilePeer
  const send = (bytes: Uint8Array) => sendAndJudge(node, hostile, bytes)

  beforeAll(async () => {
    node = await startTestNode()
    hostile = await createHostilePeer()
    await hostile.connect(node)
  })
  afterAll(async () => {
    await hostile.stop()
    await stopAndRemove(node)
  })

  it('accepts one honest message first', async () => {
    await send(encodeEnvelope(hostile.alert({ seq: 1 })))
    await waitFor(() => node.alerts.counts.accepted === 1, 5000, 'the alert to be stored')
  })

  it('rejects random bytes as malformed', async () => {
    await send(randomBytes(300))
    expect(node.alerts.counts.rejected.malformed).toBe(1)
  })

  it('rejects a forged signature (claims another sender)', async () => {
    const victim = signer().publicKey
    await send(encodeEnvelope(hostile.alert({ seq: 2, sender: victim })))
    expect(node.alerts.counts.rejected.bad_signature).toBe(1)
  })

  it('rejects a tampered body', async () => {
    const original = hostile.alert({ seq: 3 })
    const tampered = { ...original, body: { ...original.body, indicator: '192.0.2.99' } }
    await send(encodeEnvelope(tampered))
    expect(node.alerts.counts.rejected.bad_signature).toBe(2)
  })

  it('rejects an oversize message', async () => {
    // from a second identity: three rejected messages already put the first below the graylist threshold, and
    // the node no longer reads it at all
    const other = await createHostilePeer()
    try {
      await other.connect(node)
      await sendAndJudge(node, other, randomBytes(node.config.alerts.maxMessageBytes + 1))
      expect(node.alerts.counts.rejected.oversize).toBe(1)
    } finally {
      await other.stop()
    }
  })

  it('ignores an expired envelope and a replayed (sender, seq), whoever relays them', async () => {
    const relay = await createHostilePeer()
    await relay.connect(node)
    const send = (bytes: Uint8Array) => sendAndJudge(node, relay, bytes)
    const past = Date.now() - 7_200_000
    await send(encodeEnvelope(hostile.alert({ seq: 4, createdAt: past, expiresAt: past + 3_600_000 })))
    expect(node.alerts.counts.ignored.expired).toBe(1)
    // Same sender and seq as the accepted one, different content: a replay even though the bytes differ.
    await send(encodeEnvelope(hostile.alert({ seq: 1, body: { indicator: '192.0.2.11' } })))
    expect(node.alerts.counts.ignored.replayed).toBe(1)
    await relay.stop()
  })

  it('kept only the honest alert, still serves its API, and scored the hostile peer down', async () => {
    expect((await api(node, '/healthz')).status).toBe(200)
    const threats = await api(node, '/api/defense/network/threats')
    expect(threats.body.items.map((t: any) => t.indicator)).toEqual(['192.0.2.10'])
    await waitFor(() => (scoreOnNode(node, hostile.peerId) ?? 0) < 0, 5000, 'a negative score')
    expect(scoreOnNode(node, hostile.peerId)).toBeLessThan(-10)
  })
})
