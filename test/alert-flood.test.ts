import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateSecretKey } from '../crypto/signing/ed25519.ts'
import type { StoredAlert } from '../node/alerts/alert-store.ts'
import { allowanceFor, VERIFY_ALLOWANCE_TRUSTED, VERIFY_ALLOWANCE_UNKNOWN } from '../node/p2p/peer-budget.ts'
import type { ShieldwallNode } from '../node/shieldwall-node.ts'
import { TOPICS } from '../protocol/topics.ts'
import {
  alertBytes,
  createHostilePeer,
  graylistedOnNode,
  presignAlerts,
  scoreOnNode,
  summaryBytes,
  type HostilePeer,
} from './helpers/hostile-peer.ts'
import { api, startTestNode, stopAndRemove, waitFor } from './helpers/test-node.ts'

/** enough to show the bound: well past the per-sender rate, the flooder's budgets and the flood margin */
const FLOOD = 3000

/**
 * Issue 15, finding 3: a flood of alerts with valid signatures, signed in advance by one fresh key. Each used to
 * cost a signature verification before the rate limit dropped it, and `ignore` cost the flooder nothing. Now
 * the verifications done for the flooder are bounded by the budget its (stranger's) trust allows, the flood
 * itself is rejected so gossipsub graylists the flooder, and a trusted peer's alerts still get through.
 */
describe('a valid-signature flood from one fresh key', () => {
  let node: ShieldwallNode
  let flooder: HostilePeer
  let honest: HostilePeer
  const honestAccepted: StoredAlert[] = []
  let floodMs = 0

  beforeAll(async () => {
    const honestKey = generateSecretKey()
    honest = await createHostilePeer(honestKey)
    node = await startTestNode({ cli: { reputation: { trustedPeers: [honest.peerId] } } })
    node.alerts.onAlert((a) => {
      if (a.sender === Buffer.from(honest.publicKey).toString('hex')) honestAccepted.push(a)
    })
    flooder = await createHostilePeer()
    await flooder.connect(node)
    await honest.connect(node)
  })
  afterAll(async () => {
    await Promise.allSettled([flooder?.stop(), honest?.stop()])
    await stopAndRemove(node)
  })

  it('bounds the flooder by its budget, graylists it, and still accepts a trusted peer', async () => {
    const batch = presignAlerts(flooder, FLOOD)
    // the flooder's reports may cost it trust as they are weighed; its allowance was never above this
    const trustBefore = node.reputation.trust(flooder.peerId)
    const started = Date.now()
    const flood = flooder.publishMany(TOPICS.alerts, batch)
    // the trusted peer speaks while the flood is being judged
    for (let seq = 1; seq <= 5; seq++) await honest.publish(TOPICS.alerts, alertBytes(honest, { seq }))
    expect(await flood).toBe(FLOOD)
    await waitFor(() => graylistedOnNode(node, flooder.peerId), 45_000, 'the flooder to be graylisted')
    // graylisted, the flooder's further RPCs are dropped unread; what it got in before is judged to the end
    await waitFor(() => node.alerts.judging === 0, 30_000, 'the node to finish judging what it took in')
    floodMs = Date.now() - started

    // every signature verified for the flooder was within its allowance over the time the flood lasted
    const usage = node.alerts.peerUsage(flooder.peerId)
    const allowance = allowanceFor(
      Math.max(trustBefore, node.reputation.trust(flooder.peerId)),
      VERIFY_ALLOWANCE_UNKNOWN,
      VERIFY_ALLOWANCE_TRUSTED,
    )
    expect(usage.verified.spent).toBeGreaterThan(0)
    expect(usage.verified.spent).toBeLessThanOrEqual(
      Math.ceil(allowance.burst + (allowance.perSecond * floodMs) / 1000),
    )
    expect(node.alerts.counts.verified).toBeLessThan(FLOOD / 4)
    expect(node.alerts.counts.rejected.flood ?? 0).toBeGreaterThan(0)
    expect(scoreOnNode(node, flooder.peerId)).toBeLessThan(-80)
    // and hung up on, so its further RPCs are not even read; its score outlives the connection
    await waitFor(
      () => node.host.getConnections(flooder.host.peerId).length === 0,
      15_000,
      'the node to hang up on the flooder',
    )
    expect(graylistedOnNode(node, flooder.peerId)).toBe(true)

    // and after it, the trusted peer is still heard
    for (let seq = 6; seq <= 10; seq++) await honest.publish(TOPICS.alerts, alertBytes(honest, { seq }))
    await waitFor(() => honestAccepted.length === 10, 20_000, "the trusted peer's ten alerts")
    expect(honestAccepted.map((a) => a.seq).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    expect(scoreOnNode(node, honest.peerId)).toBeGreaterThanOrEqual(0)
    expect((await api(node, '/healthz')).status).toBe(200)
  }, 120_000)
})

/** the summary service's default per-sender rate (not a config option) */
const SUMMARIES_PER_SENDER_PER_MINUTE = 6

/** The same flood on the blocklist summaries topic: the same order of checks, the same budgets. */
describe('a valid-signature flood of blocklist summaries', () => {
  let node: ShieldwallNode
  let flooder: HostilePeer

  beforeAll(async () => {
    node = await startTestNode()
    flooder = await createHostilePeer()
    await flooder.connect(node, [TOPICS.blocklists])
  })
  afterAll(async () => {
    await flooder?.stop()
    await stopAndRemove(node)
  })

  it('verifies at most the per-sender rate of them and graylists the flooder', async () => {
    const now = Date.now()
    const batch = Array.from({ length: 300 }, (_, i) => summaryBytes(flooder, { seq: i + 1, count: 50 }, now))
    expect(await flooder.publishMany(TOPICS.blocklists, batch)).toBe(batch.length)
    await waitFor(() => graylistedOnNode(node, flooder.peerId), 45_000, 'the flooder to be graylisted')
    const summaries = node.blocklistSummaries
    const usage = summaries.peerUsage(flooder.peerId)
    // six a minute from one sender (the per-sender rate); the rest were dropped before their signature
    expect(usage.verified.spent).toBeGreaterThan(0)
    expect(usage.verified.spent).toBeLessThanOrEqual(SUMMARIES_PER_SENDER_PER_MINUTE)
    expect(summaries.counts.accepted).toBe(usage.verified.spent)
    expect(summaries.counts.rejected.flood ?? 0).toBeGreaterThan(0)
    await waitFor(
      () => node.host.getConnections(flooder.host.peerId).length === 0,
      15_000,
      'the node to hang up on the flooder',
    )
    expect((await api(node, '/healthz')).status).toBe(200)
  }, 120_000)
})

/** The other side of the per-sender margin: an honest node never gossips more of its own than peers accept. */
describe('a node with more alerts than the per-sender rate', () => {
  let node: ShieldwallNode
  let listener: HostilePeer

  beforeAll(async () => {
    node = await startTestNode({ cli: { alerts: { maxPerSenderPerMinute: 10 } } })
    listener = await createHostilePeer()
    await listener.connect(node)
  })
  afterAll(async () => {
    await listener?.stop()
    await stopAndRemove(node)
  })

  it('stores them all but gossips only the rate, so no relay of its alerts is taken for a flooder', async () => {
    const heard: Uint8Array[] = []
    listener.host.services.pubsub.addEventListener('message', (e) => heard.push(e.detail.data))
    for (let i = 0; i < 15; i++)
      await node.alerts.publish({ indicator: `192.0.2.${i + 1}`, scenario: 'ssh-bf' })
    expect(node.alerts.counts.published).toBe(15)
    expect(node.alerts.counts.held).toBe(5)
    await waitFor(() => heard.length === 10, 10_000, 'the ten gossiped alerts')
    expect((await api(node, '/api/defense/network/threats')).body.items).toHaveLength(15)
  })
})
