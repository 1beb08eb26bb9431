import { randomBytes } from 'node:crypto'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateSecretKey, getPublicKey } from '../crypto/signing/ed25519.ts'
import { createHost, type ShieldwallHost } from '../node/p2p/create-host.ts'
import type { ShieldwallNode } from '../node/shieldwall-node.ts'
import { encodeEnvelope, sealEnvelope, type Envelope } from '../protocol/envelope/envelope.ts'
import { ALERT_TYPE, ALERT_VERSION, type AlertBody } from '../protocol/messages/alert.ts'
import { TOPICS } from '../protocol/topics.ts'
import { api, startTestNode, stopAndRemove, waitFor } from './helpers/test-node.ts'

/**
 * A hostile peer speaking real gossipsub to a real node: every kind of bad message is refused for the right
 * reason, costs the sender gossipsub score when it is objectively invalid, and never hurts the node.
 */
describe('a node under a hostile peer', () => {
  let node: ShieldwallNode
  let hostile: ShieldwallHost
  const seed = generateSecretKey()
  const hostileKey = getPublicKey(seed)

  function alert(fields: Partial<Envelope<AlertBody>> = {}, body: Partial<AlertBody> = {}) {
    const now = Date.now()
    return sealEnvelope<AlertBody>(
      {
        type: ALERT_TYPE,
        version: ALERT_VERSION,
        sender: hostileKey,
        seq: 1,
        createdAt: now,
        expiresAt: now + 600_000,
        body: {
          indicator: '192.0.2.10',
          scenario: 'ssh-bf',
          severity: 'high',
          confidence: 1,
          events: 5,
          windowSeconds: 60,
          firstSeen: now - 60_000,
          lastSeen: now,
          ...body,
        },
        ...fields,
      },
      seed,
    )
  }

  async function send(bytes: Uint8Array) {
    await hostile.services.pubsub.publish(TOPICS.alerts, bytes)
  }

  const total = () => {
    const c = node.alerts.counts
    const sum = (o: Record<string, number | undefined>) =>
      Object.values(o).reduce((a, b) => (a ?? 0) + (b ?? 0), 0) as number
    return c.accepted + sum(c.rejected) + sum(c.ignored)
  }

  async function sendAndJudge(bytes: Uint8Array) {
    const before = total()
    await send(bytes)
    await waitFor(() => total() > before, 5000, 'the node to judge the message')
  }

  beforeAll(async () => {
    node = await startTestNode()
    hostile = await createHost({
      privateKey: await generateKeyPairFromSeed('Ed25519', seed),
      listen: ['/ip4/127.0.0.1/tcp/0'],
      dht: { enabled: false, protocolPrefix: '/shieldwall' },
    })
    hostile.services.pubsub.subscribe(TOPICS.alerts)
    await hostile.dial(multiaddr(node.addresses()[0]))
    await waitFor(
      () => hostile.services.pubsub.getSubscribers(TOPICS.alerts).length > 0,
      10_000,
      'subscription',
    )
  })
  afterAll(async () => {
    await hostile.stop()
    await stopAndRemove(node)
  })

  it('accepts one honest message first', async () => {
    await sendAndJudge(encodeEnvelope(alert({ seq: 1 })))
    expect(node.alerts.counts.accepted).toBe(1)
  })

  it('rejects random bytes as malformed', async () => {
    await sendAndJudge(randomBytes(300))
    expect(node.alerts.counts.rejected.malformed).toBe(1)
  })

  it('rejects a forged signature (claims another sender)', async () => {
    const victim = getPublicKey(generateSecretKey())
    const forged = { ...alert({ seq: 2 }), sender: victim }
    await sendAndJudge(encodeEnvelope(forged))
    expect(node.alerts.counts.rejected.bad_signature).toBe(1)
  })

  it('rejects a tampered body', async () => {
    const original = alert({ seq: 3 })
    const tampered = { ...original, body: { ...original.body, indicator: '192.0.2.99' } }
    await sendAndJudge(encodeEnvelope(tampered))
    expect(node.alerts.counts.rejected.bad_signature).toBe(2)
  })

  it('rejects an oversize message', async () => {
    await sendAndJudge(randomBytes(node.config.alerts.maxMessageBytes + 1))
    expect(node.alerts.counts.rejected.oversize).toBe(1)
  })

  it('ignores an expired envelope and a replayed (sender, seq)', async () => {
    const past = Date.now() - 7_200_000
    await sendAndJudge(encodeEnvelope(alert({ seq: 4, createdAt: past, expiresAt: past + 3_600_000 })))
    expect(node.alerts.counts.ignored.expired).toBe(1)
    // Same sender and seq as the accepted one, different content: a replay even though the bytes differ.
    await sendAndJudge(encodeEnvelope(alert({ seq: 1 }, { indicator: '192.0.2.11' })))
    expect(node.alerts.counts.ignored.replayed).toBe(1)
  })

  it('kept only the honest alert, still serves its API, and scored the hostile peer down', async () => {
    expect((await api(node, '/healthz')).status).toBe(200)
    const threats = await api(node, '/api/defense/network/threats')
    expect(threats.body.items.map((t: any) => t.indicator)).toEqual(['192.0.2.10'])
    const score = node.host.services.pubsub as unknown as { getScore(id: string): number }
    await waitFor(() => score.getScore(hostile.peerId.toString()) < 0, 5000, 'a negative score')
    expect(score.getScore(hostile.peerId.toString())).toBeLessThan(-10)
  })
})
