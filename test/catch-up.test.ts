import type { Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  decodeEnvelope,
  encodeEnvelope,
  verifyEnvelopeSignature,
  type Envelope,
} from '../protocol/envelope/envelope.ts'
import type { AlertBody } from '../protocol/messages/alert.ts'
import type { BlocklistSummaryBody } from '../protocol/messages/blocklist-summary.ts'
import {
  ALERTS_SYNC_PROTOCOL,
  decodeSyncResponse,
  encodeSyncResponse,
} from '../protocol/messages/sync-page.ts'
import { TOPICS } from '../protocol/topics.ts'
import type { ShieldwallNode } from '../node/shieldwall-node.ts'
import { startTestNode, stopAndRemove, waitFor } from './helpers/test-node.ts'

const ALERTS = 100
// The default (120 a minute per sender) is for live gossip; this test publishes a burst and replays it.
const CLI = { alerts: { maxPerSenderPerMinute: 1000 } }

async function allIds(node: ShieldwallNode): Promise<string[]> {
  const page = await node.alertStore.list({ limit: 10_000 })
  return page.items.map((a) => a.id).sort()
}

describe('catch-up of a late joiner, forged pages and blocklist summaries', () => {
  let a: ShieldwallNode
  let b: ShieldwallNode
  let c: ShieldwallNode | undefined
  let d: ShieldwallNode | undefined

  beforeAll(async () => {
    a = await startTestNode({ cli: CLI })
    b = await startTestNode({ cli: CLI })
    await b.dial(multiaddr(a.addresses()[0]))
  })
  afterAll(async () => {
    await stopAndRemove(...[a, b, c, d].filter((n): n is ShieldwallNode => n !== undefined))
  })

  it('a node started later, bootstrapping to A, has all 100 alerts within 5 s', async () => {
    for (let i = 0; i < ALERTS; i++) {
      await a.alerts.publish({
        indicator: `198.51.${100 + Math.floor(i / 250)}.${(i % 250) + 1}`,
        scenario: 'ssh-bf',
        ttlSeconds: 3600,
      })
    }
    expect(a.alertStore.count).toBe(ALERTS)
    const expected = await allIds(a)

    const startedAt = Date.now()
    c = await startTestNode({
      cli: { ...CLI, p2p: { listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [a.addresses()[0]] } },
    })
    const node = c
    await waitFor(() => node.alertStore.count >= ALERTS, 5_000, 'C to catch up')
    const elapsed = Date.now() - startedAt
    console.log(`late joiner caught up with ${ALERTS} alerts ${elapsed} ms after it was started`)

    expect(await allIds(node)).toEqual(expected)
    const stored = (await node.alertStore.list({ limit: 10_000 })).items
    expect(stored.every((x) => x.origin === 'sync' && node.verifyStoredAlert(x))).toBe(true)
    expect(node.alerts.counts.accepted).toBe(ALERTS)
    expect(node.alerts.counts.rejected).toEqual({})
  })

  it('a peer serving forged and tampered alerts gets them rejected, and the store keeps only valid ones', async () => {
    const node = c!
    d = await startTestNode({ cli: CLI })
    const genuine = (await a.alertStore.list({ limit: 5 })).items.map((x) =>
      Buffer.from(x.envelope, 'base64'),
    )
    const forged = genuine.map((bytes, i) => {
      // A's signature over a body that says something else, under a fresh seq so it is not a mere replay.
      const envelope = decodeEnvelope(bytes) as Envelope<AlertBody>
      return encodeEnvelope({
        ...envelope,
        seq: envelope.seq + 1_000_000,
        body: { ...envelope.body, indicator: `192.0.2.${i + 1}` },
      })
    })
    const garbage = new Uint8Array([0xa1, 0x61, 0x78, 0x01])
    // D's real libp2p host answers the real protocol, with a page nobody signed.
    await d.host.unhandle(ALERTS_SYNC_PROTOCOL)
    await d.host.handle(ALERTS_SYNC_PROTOCOL, async (stream: Stream) => {
      const lp = lpStream(stream)
      await lp.read()
      await lp.write(encodeSyncResponse({ alerts: [...forged, garbage] }))
      await stream.close()
    })

    const before = node.alerts.counts.rejected.bad_signature ?? 0
    const result = await node.sync.catchUp(multiaddr(d.addresses()[0]), 0)
    expect(result).toMatchObject({
      received: 6,
      accepted: 0,
      rejected: { bad_signature: 5, malformed: 1 },
      complete: true,
    })
    expect(node.alerts.counts.rejected.bad_signature).toBeGreaterThanOrEqual(before + 5)
    expect(node.alertStore.count).toBe(ALERTS)
    const stored = (await node.alertStore.list({ limit: 10_000 })).items
    expect(stored.every((x) => node.verifyStoredAlert(x))).toBe(true)
    expect(stored.some((x) => x.indicator.startsWith('192.0.2.'))).toBe(false)
  })

  it('a malformed request is answered with an error code and the server keeps serving', async () => {
    const stream = await b.host.dialProtocol(multiaddr(a.addresses()[0]), ALERTS_SYNC_PROTOCOL)
    const lp = lpStream(stream)
    await lp.write(new Uint8Array([0xa1, 0x65, 0x73, 0x69, 0x6e, 0x63, 0x65, 0x20])) // { since: -1 }
    await stream.close()
    const response = decodeSyncResponse((await lp.read()).subarray())
    expect(response).toMatchObject({ error: 'malformed_request' })
    expect(a.sync.counts.refused.malformed_request).toBe(1)

    const page = await b.sync.fetchPage(multiaddr(a.addresses()[0]), { since: 0, limit: 10 })
    expect(page.alerts).toHaveLength(10)
    expect(page.nextCursor).toBeTruthy()
  })

  it("A's blocklist summary reaches B's onSummary listener, signed by A", async () => {
    await waitFor(
      () => a.host.services.pubsub.getSubscribers(TOPICS.blocklists).some((p) => p.toString() === b.peerId),
      10_000,
      'A to see B subscribed to blocklist summaries',
    )
    const received: Array<{ sender: string; body: BlocklistSummaryBody; signed: boolean }> = []
    b.blocklistSummaries.onSummary((sender, body, envelope) =>
      received.push({ sender, body, signed: verifyEnvelopeSignature(envelope) }),
    )
    const expiresAt = Date.now() + 3_600_000
    a.blocklistSummaries.setSource(() => [
      { value: '203.0.113.7', score: 0.6, scenario: 'ssh-bf', expiresAt },
      { value: '198.51.100.0/24', score: 0.9, scenario: 'http-probing', expiresAt },
      { value: 'not-an-ip', score: 1, scenario: 'ssh-bf', expiresAt },
    ])
    const sent = await a.blocklistSummaries.publishNow()
    expect(sent).toMatchObject({ total: 2, truncated: false })

    const got = await waitFor(() => received[0], 5_000, 'the summary on B')
    expect(got.sender).toBe(a.peerId)
    expect(got.signed).toBe(true)
    expect(got.body.entries.map((e) => e.value)).toEqual(['198.51.100.0/24', '203.0.113.7'])
    expect(b.blocklistSummaries.counts.accepted).toBe(1)
  })
})
