import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../config/index.ts'
import { silentLogger } from '../node/logging/logger.ts'
import {
  allowanceFor,
  POOL_TRUSTED_THRESHOLD,
  poolAllowance,
  VERIFY_ALLOWANCE_TRUSTED,
  VERIFY_ALLOWANCE_UNKNOWN,
} from '../node/p2p/peer-budget.ts'
import { ShieldwallNode } from '../node/shieldwall-node.ts'
import {
  SUMMARY_JUDGE_ALLOWANCE_TRUSTED,
  SUMMARY_JUDGE_ALLOWANCE_UNKNOWN,
  SUMMARY_VERIFY_ALLOWANCE_TRUSTED,
  SUMMARY_VERIFY_ALLOWANCE_UNKNOWN,
} from '../node/sync/blocklist-summaries.ts'
import { TOPICS } from '../protocol/topics.ts'
import {
  alertBytes,
  alertsJudged,
  createHostilePeer,
  presignAlerts,
  signer,
  stopAll,
  summaryBytes,
  type HostilePeer,
} from './helpers/hostile-peer.ts'
import { stopAndRemove, tempDir, waitFor } from './helpers/test-node.ts'

/** fresh identities, each a real libp2p peer (bounded: every one is a host in this process) */
const IDENTITIES = 30
/** alerts each identity sends: well within its own verification budget, so no single one of them is over */
const PER_IDENTITY = 20
/** alerts the trusted peer sends during the flood */
const HONEST = 6
/** summaries each identity relays, each signed by a signer of its own (one summary per sender: no rate applies) */
const SUMMARIES_PER_IDENTITY = 12
/** how far the node's clock moves between the two halves of the crowd, so the pool's refill is exercised */
const STEP_MS = 2000

const BOTH = [TOPICS.alerts, TOPICS.blocklists]

/**
 * libp2p lets in a few connections a second from one address (inboundConnectionThreshold) and resets the
 * rest; every identity here dials from 127.0.0.1, so one that is reset waits a moment and dials again.
 */
async function connectPaced(peer: HostilePeer, node: ShieldwallNode): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await peer.connect(node, BOTH)
      return
    } catch (err) {
      if (attempt >= 20) throw err
      await new Promise((resolve) => setTimeout(resolve, 500))
    }
  }
}

/**
 * Issue 15, finding 3, the Sybil side: per-peer budgets added up across identities, so a crowd of fresh ones,
 * each keeping to its own stranger's allowance, together made the node verify as many signatures as there were
 * identities times that allowance. Now all peers below the trusted threshold draw on one shared pool besides
 * their own buckets: the crowd's verifications are bounded by the pool whatever its size, nobody in it is
 * punished for what the crowd did, and a trusted peer, not charged to the pool, is never starved by it.
 *
 * The node runs on an injected clock (the one its budgets read), so the allowance is exact: the pool's burst
 * plus its rate over the clock time that passed, which is `STEP_MS` however slowly the machine runs.
 */
describe('a crowd of fresh identities, each within its own budget', () => {
  let node: ShieldwallNode
  let honest: HostilePeer
  let crowd: HostilePeer[] = []
  let now = Date.now()
  const started = now
  const honestAccepted = new Set<number>()

  beforeAll(async () => {
    honest = await createHostilePeer()
    const config = loadConfig({
      env: {},
      cli: {
        dataDir: await tempDir(),
        api: { host: '127.0.0.1', port: 0 },
        p2p: { listen: ['/ip4/127.0.0.1/tcp/0'] },
        log: { level: 'silent' },
        reputation: { trustedPeers: [honest.peerId] },
      },
    })
    node = new ShieldwallNode(config, { logger: silentLogger(), clock: () => now })
    await node.start()
    const honestHex = Buffer.from(honest.publicKey).toString('hex')
    node.alerts.onAlert((a) => {
      if (a.sender === honestHex) honestAccepted.add(a.seq)
    })
    await honest.connect(node, BOTH)
    for (let i = 0; i < IDENTITIES; i++) {
      const peer = await createHostilePeer()
      crowd.push(peer)
      await connectPaced(peer, node)
    }
  }, 120_000)
  afterAll(async () => {
    await stopAll([honest, ...crowd].filter((p) => p !== undefined))
    if (node !== undefined) await stopAndRemove(node)
  })

  it('verifies no more for the whole crowd than the shared pool allows, and accepts every trusted alert', async () => {
    const trustedThreshold = node.config.blocklist.trustedThreshold
    expect(trustedThreshold).toBe(POOL_TRUSTED_THRESHOLD)
    expect(node.reputation.trust(honest.peerId)).toBeGreaterThanOrEqual(trustedThreshold)
    // each identity really is within its own allowance: what the crowd gets past the pool is the pool's doing
    const own = allowanceFor(
      node.reputation.trust(crowd[0].peerId),
      VERIFY_ALLOWANCE_UNKNOWN,
      VERIFY_ALLOWANCE_TRUSTED,
    )
    expect(node.reputation.trust(crowd[0].peerId)).toBeLessThan(trustedThreshold)
    expect(PER_IDENTITY).toBeLessThanOrEqual(own.burst)

    const batches = crowd.map((p) => presignAlerts(p, PER_IDENTITY, { now }))
    const half = IDENTITIES / 2
    let honestSeq = 0
    const sendHalf = async (from: number, to: number) => {
      const sent = Promise.all(
        crowd.slice(from, to).map((p, i) => p.publishMany(TOPICS.alerts, batches[from + i])),
      )
      // the trusted peer speaks while the crowd is being judged
      for (let k = 0; k < HONEST / 2; k++) {
        await honest.publish(TOPICS.alerts, alertBytes(honest, { seq: ++honestSeq }, now))
      }
      expect(await sent).toEqual(Array(to - from).fill(PER_IDENTITY))
    }
    const judgedAll = (n: number) => async () => {
      await waitFor(() => alertsJudged(node) >= n, 60_000, `the node to judge ${n} alerts`)
      await waitFor(() => node.alerts.judging === 0, 30_000, 'the node to finish judging')
    }

    await sendHalf(0, half)
    await judgedAll(half * PER_IDENTITY + HONEST / 2)()
    now += STEP_MS
    await sendHalf(half, IDENTITIES)
    await judgedAll(IDENTITIES * PER_IDENTITY + HONEST)()

    const pool = poolAllowance(VERIFY_ALLOWANCE_UNKNOWN)
    const allowed = pool.burst + (pool.perSecond * (now - started)) / 1000
    const crowdVerified = crowd.reduce((sum, p) => sum + node.alerts.peerUsage(p.peerId).verified.spent, 0)
    const counts = node.alerts.counts
    // before the pool this was every alert the crowd sent (600 here), growing with the number of identities
    expect(crowdVerified).toBeLessThanOrEqual(allowed)
    expect(counts.verified).toBeLessThanOrEqual(allowed + HONEST)
    expect(counts.pooled.verified).toBe(IDENTITIES * PER_IDENTITY - crowdVerified)
    expect(counts.pooled.verified).toBeGreaterThan(0)
    // nobody in the crowd is held to what the crowd did: refused by the pool is `ignore`, never a flood
    expect(counts.rejected.flood ?? 0).toBe(0)
    for (const p of crowd) expect(node.alerts.peerUsage(p.peerId).verified.flooded).toBe(0)
    // the trusted peer was never charged to the pool: every one of its alerts got through
    await waitFor(() => honestAccepted.size === HONEST, 10_000, 'the trusted alerts to be stored')
    expect(node.alerts.peerUsage(honest.peerId).verified.pooled).toBe(0)
    // the refusals are exported
    const text = await node.metrics.text()
    expect(text).toMatch(
      new RegExp(
        `^shieldwall_alerts_untrusted_pool_refusals_total\\{[^}]*budget="verify"[^}]*\\} ${counts.pooled.verified}$`,
        'm',
      ),
    )
  }, 180_000)

  it('holds the crowd’s relayed blocklist summaries to the summaries’ pool, and accepts the trusted one', async () => {
    const from = now
    const trust = node.reputation.trust(crowd[0].peerId)
    const ownJudge = allowanceFor(trust, SUMMARY_JUDGE_ALLOWANCE_UNKNOWN, SUMMARY_JUDGE_ALLOWANCE_TRUSTED)
    const ownVerify = allowanceFor(trust, SUMMARY_VERIFY_ALLOWANCE_UNKNOWN, SUMMARY_VERIFY_ALLOWANCE_TRUSTED)
    expect(SUMMARIES_PER_IDENTITY).toBeLessThanOrEqual(Math.min(ownJudge.burst, ownVerify.burst))
    const summaries = node.blocklistSummaries
    const judged = () => {
      const c = summaries.counts
      const sum = (o: Partial<Record<string, number>>) =>
        Object.values(o).reduce((a = 0, b = 0) => a + b, 0) ?? 0
      return c.accepted + sum(c.rejected) + sum(c.ignored)
    }
    const before = judged()
    const batches = crowd.map(() =>
      Array.from({ length: SUMMARIES_PER_IDENTITY }, () => summaryBytes(signer(), { count: 5 }, now)),
    )
    const half = IDENTITIES / 2
    const sendHalf = async (a: number, b: number) => {
      const sent = Promise.all(
        crowd.slice(a, b).map((p, i) => p.publishMany(TOPICS.blocklists, batches[a + i])),
      )
      expect(await sent).toEqual(Array(b - a).fill(SUMMARIES_PER_IDENTITY))
    }
    await sendHalf(0, half)
    await waitFor(
      () => judged() >= before + half * SUMMARIES_PER_IDENTITY,
      60_000,
      'the first summaries judged',
    )
    now += STEP_MS
    const honestSummary = summaryBytes(honest, { seq: 1 }, now)
    await sendHalf(half, IDENTITIES)
    await honest.publish(TOPICS.blocklists, honestSummary)
    const total = IDENTITIES * SUMMARIES_PER_IDENTITY + 1
    await waitFor(() => judged() >= before + total, 60_000, 'every summary judged')

    const seconds = (now - from) / 1000
    const judgePool = poolAllowance(SUMMARY_JUDGE_ALLOWANCE_UNKNOWN)
    const verifyPool = poolAllowance(SUMMARY_VERIFY_ALLOWANCE_UNKNOWN)
    const usage = crowd.map((p) => summaries.peerUsage(p.peerId))
    const crowdJudged = usage.reduce((sum, u) => sum + u.judged.spent, 0)
    const crowdVerified = usage.reduce((sum, u) => sum + u.verified.spent, 0)
    // before the pool every one of the crowd's 360 summaries was judged and verified
    expect(crowdJudged).toBeLessThanOrEqual(judgePool.burst + judgePool.perSecond * seconds)
    expect(crowdVerified).toBeLessThanOrEqual(verifyPool.burst + verifyPool.perSecond * seconds)
    expect(summaries.counts.pooled.judged + summaries.counts.pooled.verified).toBe(
      IDENTITIES * SUMMARIES_PER_IDENTITY - crowdVerified,
    )
    expect(summaries.counts.rejected.flood ?? 0).toBe(0)
    // the trusted peer's summary was judged, verified and accepted, the pool spent or not
    expect(summaries.peerUsage(honest.peerId).verified).toMatchObject({ spent: 1, pooled: 0 })
  }, 180_000)
})
