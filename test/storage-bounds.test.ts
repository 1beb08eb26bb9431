import type { Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { afterEach, describe, expect, it } from 'vitest'
import {
  ALERTS_SYNC_PROTOCOL,
  decodeSyncRequest,
  encodeSyncResponse,
} from '../protocol/messages/sync-page.ts'
import { peerIdFromEd25519PublicKey } from '../crypto/identity/peer-id.ts'
import type { ShieldwallNode } from '../node/shieldwall-node.ts'
import {
  alertBytes,
  createHostilePeer,
  presignAlerts,
  signer,
  stopAll,
  type HostilePeer,
} from './helpers/hostile-peer.ts'
import { startTestNode, stopAndRemove, waitFor } from './helpers/test-node.ts'

/**
 * Issue 15, finding 6, the catch-up part: a catch-up server hands a node as many validly signed alerts as it
 * likes (alerts fetched by catch-up skip the per-sender rate). What one catch-up takes from a server is now
 * bounded by that server's trust; a trusted server still delivers its whole backlog.
 */

const KEYS_PER_SERVER = 30
const ALERTS_PER_KEY = 100

interface Served {
  requests: number
  alerts: number
}

/**
 * A catch-up server on a real libp2p host speaking /shieldwall/alerts-sync/1.0.0: pages of the alerts given,
 * as many as each request asks for, the cursor being the index of the next one.
 */
async function catchUpServer(peer: HostilePeer, alerts: readonly Uint8Array[]): Promise<Served> {
  const served: Served = { requests: 0, alerts: 0 }
  await peer.host.handle(ALERTS_SYNC_PROTOCOL, async (stream: Stream) => {
    const lp = lpStream(stream, { maxDataLength: 4 * 1024 * 1024 })
    const request = decodeSyncRequest((await lp.read()).subarray())
    const start = request.cursor === undefined ? 0 : Number(request.cursor)
    const page = alerts.slice(start, start + request.limit)
    served.requests++
    served.alerts += page.length
    const next = start + page.length
    await lp.write(
      encodeSyncResponse({
        alerts: [...page],
        ...(next < alerts.length ? { nextCursor: String(next) } : {}),
      }),
    )
    await stream.close()
  })
  return served
}

/** validly signed alerts from many fresh keys, about distinct addresses */
function manyKeysAlerts(now: number): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let k = 0; k < KEYS_PER_SERVER; k++)
    out.push(...presignAlerts(signer(), ALERTS_PER_KEY, { firstSeq: 1 + k * ALERTS_PER_KEY, now }))
  return out
}

describe('catch-up bounded by the serving peer’s trust (issue 15, finding 6)', () => {
  const nodes: ShieldwallNode[] = []
  const peers: HostilePeer[] = []

  afterEach(async () => {
    await stopAll(peers.splice(0))
    await stopAndRemove(...nodes.splice(0))
  })

  async function caughtUpFrom(node: ShieldwallNode, peer: HostilePeer) {
    await peer.host.dial(multiaddr(node.addresses()[0]))
    return waitFor(
      () => node.catchUp.results.find((r) => r.peer === peer.peerId),
      30_000,
      'the node to catch up from the server',
    )
  }

  it('a stranger serving 3,000 signed alerts from 30 keys delivers only its budget in one catch-up', async () => {
    const hostile = await createHostilePeer()
    peers.push(hostile)
    const alerts = manyKeysAlerts(Date.now())
    const served = await catchUpServer(hostile, alerts)
    const node = await startTestNode()
    nodes.push(node)

    const result = await caughtUpFrom(node, hostile)
    // a newcomer's trust (about 0.04) buys the minimum: two pages of 500 (catchUpBudget)
    expect(node.reputation.trust(hostile.peerId)).toBeLessThan(0.1)
    const budget = { pages: 2, alerts: 1000 }
    expect(served.alerts).toBeLessThanOrEqual(budget.alerts)
    expect(served.requests).toBeLessThanOrEqual(budget.pages)
    expect(result).toMatchObject({ complete: false, budgetSpent: true })
    expect(result.received).toBeLessThanOrEqual(budget.alerts)
    expect(node.alertStore.count).toBeLessThanOrEqual(budget.alerts)
    // where to go on from, should the round come back to it
    expect(result.cursor).toBe(String(result.received))
  })

  it('a trusted server delivers its whole backlog of 3,000 in one catch-up', async () => {
    const honest = await createHostilePeer()
    peers.push(honest)
    const alerts = manyKeysAlerts(Date.now())
    const served = await catchUpServer(honest, alerts)
    const node = await startTestNode({ cli: { reputation: { trustedPeers: [honest.peerId] } } })
    nodes.push(node)

    const result = await caughtUpFrom(node, honest)
    expect(result).toMatchObject({ complete: true, received: alerts.length })
    expect(result.accepted).toBe(alerts.length)
    expect(served.alerts).toBe(alerts.length)
    expect(node.alertStore.count).toBe(alerts.length)
  })

  it('a node keeps at most alerts.maxStored, its own and trusted senders’ alerts first', async () => {
    const server = await createHostilePeer()
    peers.push(server)
    const friend = signer()
    const friendId = peerIdFromEd25519PublicKey(friend.publicKey).toString()
    const now = Date.now()
    // the friend's 100 alerts (its allowance at full trust: a tenth of the cap) arrive first, then 2,000 from
    // 40 fresh keys
    const friendAlerts = Array.from({ length: 100 }, (_, i) =>
      alertBytes(friend, { seq: i + 1, createdAt: now, body: { indicator: `198.18.9.${i}` } }, now),
    )
    const flood: Uint8Array[] = []
    for (let k = 0; k < 40; k++) flood.push(...presignAlerts(signer(), 50, { firstSeq: 1 + k * 50, now }))
    await catchUpServer(server, [...friendAlerts, ...flood])
    const node = await startTestNode({
      cli: { alerts: { maxStored: 1000 }, reputation: { trustedPeers: [server.peerId, friendId] } },
    })
    nodes.push(node)
    const own = []
    for (let i = 0; i < 10; i++)
      own.push(await node.alerts.publish({ indicator: `192.0.2.${i + 1}`, scenario: 'ssh-bf' }))

    const result = await caughtUpFrom(node, server)
    expect(result).toMatchObject({ complete: true, received: 2100, accepted: 2100 })
    expect(node.alertStore.count).toBe(1000)
    const held = (await node.alertStore.list({ limit: 5000 })).items
    expect(held).toHaveLength(1000)
    const friendHex = Buffer.from(friend.publicKey).toString('hex')
    expect(held.filter((a) => a.sender === friendHex)).toHaveLength(100)
    for (const a of own) expect(await node.alertStore.get(a.id)).toBeDefined()
  })
})
