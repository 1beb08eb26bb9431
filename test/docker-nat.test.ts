import { multiaddr } from '@multiformats/multiaddr'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Message } from '@libp2p/gossipsub'
import type { PeerId } from '@libp2p/interface'
import type { ShieldwallNode } from '../node/shieldwall-node.ts'
import { decodeEnvelope } from '../protocol/envelope/envelope.ts'
import { TOPICS } from '../protocol/topics.ts'
import {
  alertBytes,
  createHostilePeer,
  scoreOnNode,
  summaryBytes,
  type HostilePeer,
} from './helpers/hostile-peer.ts'
import { api, startTestNode, stopAndRemove, waitFor } from './helpers/test-node.ts'

/** nginx behind Docker's default bridge: every client arrives as the bridge's gateway */
const DOCKER_GATEWAY = '172.17.0.1'
/** a public address A allowlists (its uptime monitor, say): public, so only A's allowlist keeps it back */
const MONITOR = '198.51.100.77'
/** a real attacker A sees: the control that shows the recorders hear A at all */
const ATTACKER = '203.0.113.50'
const ALL_TOPICS = Object.values(TOPICS)

interface Heard {
  topic: string
  text: string
}

/** Decoded for reading: the envelope's body as JSON, and the raw bytes as latin1 (CBOR keeps strings as is). */
function heard(topic: string, data: Uint8Array): Heard {
  let body = ''
  try {
    body = JSON.stringify(decodeEnvelope(data).body)
  } catch {
    // not an envelope: the raw bytes below still show any address it carries
  }
  return { topic, text: `${body} ${Buffer.from(data).toString('latin1')}` }
}

/**
 * Records every message that reaches `node`'s validators on every topic, whatever the verdict: wraps each
 * topic validator the node installed (gossipsub runs it on everything that passed its own checks).
 */
function recordValidated(node: ShieldwallNode, into: Heard[]): void {
  const pubsub = node.host.services.pubsub
  for (const topic of ALL_TOPICS) {
    const validate = pubsub.topicValidators.get(topic)
    if (validate === undefined) continue
    pubsub.topicValidators.set(topic, (peer: PeerId, msg: Message) => {
      into.push(heard(msg.topic, msg.data))
      return validate(peer, msg)
    })
  }
}

const mentions = (log: Heard[], address: string) => log.filter((h) => h.text.includes(address))

describe('an honest node behind Docker NAT stays a member in good standing', () => {
  let a: ShieldwallNode
  let b: ShieldwallNode
  /** a raw subscriber on A with no validators: whatever A sends on any topic */
  let raw: HostilePeer
  const onB: Heard[] = []
  const onRaw: Heard[] = []

  beforeAll(async () => {
    a = await startTestNode({
      cli: {
        nodeName: 'docker-a',
        // this operator enforces on its Docker bridge (so its summaries would carry the block), and
        // allowlists its monitor
        blocklist: { allowPrivateRanges: false, allowlist: [MONITOR] },
        alerts: { maxPerSenderPerMinute: 1000 },
      },
    })
    b = await startTestNode({ cli: { nodeName: 'peer-b', alerts: { maxPerSenderPerMinute: 1000 } } })
    recordValidated(b, onB)
    raw = await createHostilePeer()
    raw.host.services.pubsub.addEventListener('message', (evt) =>
      onRaw.push(heard(evt.detail.topic, evt.detail.data)),
    )
    await raw.connect(a, ALL_TOPICS)
    await b.dial(multiaddr(a.addresses()[0]))
    await waitFor(
      () =>
        a.host.services.pubsub.getSubscribers(TOPICS.alerts).some((p) => p.toString() === b.peerId) &&
        b.host.services.pubsub.getSubscribers(TOPICS.alerts).some((p) => p.toString() === a.peerId) &&
        b.host.services.pubsub.getSubscribers(TOPICS.blocklists).some((p) => p.toString() === a.peerId),
      30_000,
      'A and B to see each other subscribed',
    )
  }, 60_000)
  afterAll(async () => {
    await raw?.stop()
    await stopAndRemove(...[a, b].filter((n) => n !== undefined))
  })

  it('refuses to publish by hand what it would never block: 400 naming the entry', async () => {
    const cases: [string, RegExp][] = [
      ['10.0.0.1', /10\.0\.0\.0\/8.*RFC 1918/],
      ['0.0.0.0/0', /broader than \/16/],
      [DOCKER_GATEWAY, /172\.16\.0\.0\/12/],
      [MONITOR, new RegExp(`allowlist \\(${MONITOR.replaceAll('.', '\\.')}: configured\\)`)],
    ]
    for (const [indicator, why] of cases) {
      const res = await api(a, '/api/defense/network/alert', {
        method: 'POST',
        json: { indicator, scenario: 'manual', confidence: 1 },
      })
      expect(res.status, indicator).toBe(400)
      expect(res.body.error.field).toBe('indicator')
      expect(res.body.error.message).toMatch(why)
    }
    expect(a.alerts.counts.published).toBe(0)
  })

  it('sees 1,000 clients as one private address, decides locally, and never says so on the wire', async () => {
    // Half-way first: three failed logins each are sightings (a public attacker's is gossiped)...
    const sightings = [DOCKER_GATEWAY, MONITOR, ATTACKER].flatMap((ip) =>
      Array.from({ length: 3 }, (_, i) => ({ ip, kind: 'auth_failure', user: `first${i}` })),
    )
    expect((await api(a, '/api/events', { method: 'POST', json: { events: sightings } })).status).toBe(202)
    await waitFor(() => a.detection.sightingCounts.seen >= 3, 10_000, 'three sightings on A')
    // ...then a thousand users behind the bridge, one of them running sqlmap, brute forces from all three,
    // the public attacker last so that its alert is the last A publishes
    const crowd = Array.from({ length: 1000 }, (_, i) => ({
      ip: DOCKER_GATEWAY,
      kind: 'http_request',
      method: 'GET',
      path: i % 50 === 0 ? `/item.php?id=${i}' OR 1=1--` : `/page/${i}`,
      status: 200,
      userAgent: i % 50 === 0 ? 'sqlmap/1.7.2#stable (https://sqlmap.org)' : `Mozilla/5.0 client-${i}`,
    }))
    const brute = [DOCKER_GATEWAY, MONITOR, ATTACKER].flatMap((ip) =>
      Array.from({ length: 8 }, (_, i) => ({ ip, kind: 'auth_failure', user: `user${i}` })),
    )
    const res = await api(a, '/api/events', { method: 'POST', json: { events: [...crowd, ...brute] } })
    expect(res.status).toBe(202)
    const decided = new Set(res.body.decisions.map((d: { ip: string }) => d.ip))
    expect(decided).toEqual(new Set([DOCKER_GATEWAY, MONITOR, ATTACKER]))
    // the decisions are kept and shown to the admin; A enforces on its bridge, never on its allowlist
    expect(a.blocklist.lookup(DOCKER_GATEWAY).length).toBeGreaterThan(0)
    expect(a.blocklist.lookup(MONITOR)).toEqual([])
    const local = await api(a, '/api/defense/network/threats?limit=200')
    expect(local.body.items.map((t: { indicator: string }) => t.indicator)).toEqual(
      expect.not.arrayContaining([DOCKER_GATEWAY, MONITOR]),
    )

    // A's last alert, then a summary of its list: once both are heard, everything before them was too
    await a.blocklistSummaries.publishNow()
    for (const [log, where] of [
      [onB, 'B'],
      [onRaw, 'the raw subscriber'],
    ] as const) {
      await waitFor(
        () =>
          mentions(log, ATTACKER).some((h) => h.topic === TOPICS.alerts) &&
          log.some((h) => h.topic === TOPICS.blocklists && h.text.includes(ATTACKER)),
        20_000,
        `A's alert and summary about the attacker on ${where}`,
      )
      expect(mentions(log, DOCKER_GATEWAY), where).toEqual([])
      expect(mentions(log, MONITOR), where).toEqual([])
    }
    // the summary left out the block A enforces on its bridge
    expect(a.defense.counts.unsharedSummaryEntries).toBeGreaterThan(0)
    // nor through catch-up, which B also ran when it joined
    const onBStore = await api(b, '/api/defense/network/threats?limit=200')
    expect(onBStore.body.items.map((t: { indicator: string }) => t.indicator)).toEqual(
      expect.not.arrayContaining([DOCKER_GATEWAY, MONITOR]),
    )
    expect(a.detection.unshared.decisions).toBeGreaterThanOrEqual(2)
    expect(a.detection.unshared.sightings).toBeGreaterThanOrEqual(2)
  }, 120_000)

  it("keeps A's standing on B, and A keeps receiving B's alerts", async () => {
    expect(b.reputation.get(a.peerId)?.counts['reported-allowlisted-address'] ?? 0).toBe(0)
    expect(b.reputation.gossipScore(a.peerId)).toBeGreaterThanOrEqual(0)
    // two heartbeats on B: gossipsub has folded B's reputation of A into A's score since the reports
    let beats = 0
    const beat = () => beats++
    b.host.services.pubsub.addEventListener('gossipsub:heartbeat', beat)
    await waitFor(() => beats >= 2, 20_000, 'two heartbeats on B')
    b.host.services.pubsub.removeEventListener('gossipsub:heartbeat', beat)
    expect(scoreOnNode(b, a.peerId)).toBeGreaterThanOrEqual(0)
    const before = a.alerts.counts.accepted
    const published = await api(b, '/api/defense/network/alert', {
      method: 'POST',
      json: { indicator: '203.0.113.9', scenario: 'ssh-bf', confidence: 0.9 },
    })
    expect(published.status).toBe(201)
    await waitFor(
      async () => (await a.alertStore.get(published.body.id)) !== undefined,
      20_000,
      "B's alert on A",
    )
    expect(a.alerts.counts.accepted).toBeGreaterThan(before)
    expect(scoreOnNode(b, a.peerId)).toBeGreaterThanOrEqual(0)
  }, 60_000)
})

describe('a receiver judges reports about addresses it would never block', () => {
  let b: ShieldwallNode
  let sender: HostilePeer
  /** public, and allowlisted on B alone: the sender cannot know */
  const B_ONLY = '203.0.113.9'

  beforeAll(async () => {
    b = await startTestNode({ cli: { nodeName: 'receiver-b', blocklist: { allowlist: [B_ONLY] } } })
    sender = await createHostilePeer()
    await sender.connect(b, [TOPICS.alerts, TOPICS.blocklists])
  }, 60_000)
  afterAll(async () => {
    await sender?.stop()
    if (b !== undefined) await stopAndRemove(b)
  })

  it('ignores alerts about non-routable indicators at no trust cost', async () => {
    const trustBefore = b.reputation.trust(sender.peerId)
    const indicators = [
      '10.1.2.3',
      DOCKER_GATEWAY,
      '127.0.0.1',
      '100.64.1.1',
      'fe80::1',
      '0.0.0.0/0',
      '224.0.0.1',
    ]
    for (const [i, indicator] of indicators.entries()) {
      await sender.publish(TOPICS.alerts, alertBytes(sender, { seq: i + 1, body: { indicator } }))
    }
    // judged at intake, before replay state or the signature: ignored, so neither relayed nor stored
    await waitFor(
      () => (b.alerts.counts.ignored.non_routable ?? 0) >= indicators.length,
      10_000,
      'the reports to be judged',
    )
    expect(b.defense.counts.allowlistedReports).toBe(0)
    expect(b.reputation.get(sender.peerId)?.counts ?? {}).toEqual({})
    expect(b.reputation.trust(sender.peerId)).toBe(trustBefore)
    expect(b.reputation.gossipScore(sender.peerId)).toBe(0)
    expect(b.blocklist.lookup('10.1.2.3')).toEqual([])
    const threats = (await api(b, '/api/defense/network/threats?limit=50')).body.items
    expect(threats.map((t: { indicator: string }) => t.indicator)).not.toContain(DOCKER_GATEWAY)
  })

  it('charges a report of an address only it allowlists lightly, never as a liar', async () => {
    const trustBefore = b.reputation.trust(sender.peerId)
    await sender.publish(TOPICS.alerts, alertBytes(sender, { seq: 100, body: { indicator: B_ONLY } }))
    await waitFor(() => b.defense.counts.allowlistedReports >= 1, 10_000, 'the report to be judged')
    const record = b.reputation.get(sender.peerId)
    expect(record?.counts['reported-allowlisted-address']).toBe(1)
    const trustAfter = b.reputation.trust(sender.peerId)
    expect(trustAfter).toBeLessThan(trustBefore)
    // far less than an admin's false verdict would cost, and no gossipsub penalty at all
    expect(trustBefore - trustAfter).toBeLessThan(0.05)
    expect(b.reputation.gossipScore(sender.peerId)).toBe(0)
    expect(b.blocklist.lookup(B_ONLY)).toEqual([])
  })

  it('takes nothing from summary entries about such addresses, and charges no one for restating them', async () => {
    const before = { ...b.defense.counts }
    const charged = b.reputation.get(sender.peerId)?.counts['reported-allowlisted-address'] ?? 0
    const now = Date.now()
    const entry = (value: string) => ({ value, score: 0.9, scenario: 'ssh-bf', expiresAt: now + 3_600_000 })
    const entries = [entry('10.1.2.3'), entry(DOCKER_GATEWAY), entry(B_ONLY), entry('198.18.0.1')]
    await sender.publish(TOPICS.blocklists, summaryBytes(sender, { seq: 200, entries }, now))
    await waitFor(
      () => b.defense.counts.summaryEntries > before.summaryEntries,
      10_000,
      'the summary to be weighed',
    )
    expect(b.defense.counts.summaryEntries - before.summaryEntries).toBe(1)
    expect(b.defense.counts.nonRoutableReports - before.nonRoutableReports).toBe(2)
    expect(b.defense.counts.allowlistedReports - before.allowlistedReports).toBe(1)
    expect(b.reputation.get(sender.peerId)?.counts['reported-allowlisted-address'] ?? 0).toBe(charged)
  })
})
