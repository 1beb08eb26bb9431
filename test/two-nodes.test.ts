import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TOPICS } from '../protocol/topics.ts'
import type { ShieldwallNode } from '../node/shieldwall-node.ts'
import { api, startTestNode, stopAndRemove, waitFor } from './helpers/test-node.ts'

describe('two real nodes joined through the API', () => {
  let a: ShieldwallNode
  let b: ShieldwallNode

  beforeAll(async () => {
    a = await startTestNode()
    b = await startTestNode()
  })
  afterAll(async () => {
    await stopAndRemove(a, b)
  })

  it('join dials the peer and status reports full multiaddrs and the connection', async () => {
    const status = await api(a, '/api/defense/network/status')
    expect(status.status).toBe(200)
    expect(status.body.peerId).toBe(a.peerId)
    expect(status.body.addresses.length).toBeGreaterThan(0)
    for (const addr of status.body.addresses) expect(addr).toMatch(new RegExp(`/p2p/${a.peerId}$`))

    const joined = await api(b, '/api/defense/network/join', {
      method: 'POST',
      json: { multiaddr: status.body.addresses[0] },
    })
    expect(joined).toMatchObject({ status: 200, body: { peerId: a.peerId, connected: true } })

    await waitFor(
      async () => {
        const s = await api(b, '/api/defense/network/status')
        return (
          s.body.peers.some((p: any) => p.peerId === a.peerId) &&
          s.body.topics.some((t: any) => t.topic === TOPICS.alerts && t.subscribers >= 1)
        )
      },
      10_000,
      'B to see A subscribed to alerts',
    )
    await waitFor(
      async () => {
        const s = await api(a, '/api/defense/network/status')
        return s.body.topics.some((t: any) => t.topic === TOPICS.alerts && t.subscribers >= 1)
      },
      10_000,
      'A to see B subscribed to alerts',
    )
  })

  it('an alert published on A arrives on B, verified and attributed to A', async () => {
    const published = await api(a, '/api/defense/network/alert', {
      method: 'POST',
      json: {
        indicator: '203.0.113.42',
        scenario: 'ssh-bf',
        severity: 'high',
        confidence: 0.8,
        ttlSeconds: 600,
      },
    })
    expect(published.status).toBe(201)
    expect(published.body).toMatchObject({
      indicator: '203.0.113.42',
      local: true,
      verified: true,
      reporter: a.peerId,
    })

    const found = await waitFor(
      async () => {
        const t = await api(b, '/api/defense/network/threats')
        return t.body.items.find((x: any) => x.id === published.body.id)
      },
      5_000,
      'the alert on B',
    )
    expect(found).toMatchObject({
      indicator: '203.0.113.42',
      scenario: 'ssh-bf',
      severity: 'high',
      confidence: 0.8,
      reporter: a.peerId,
      verified: true,
      local: false,
      origin: 'gossip',
    })
    expect(b.alerts.counts.accepted).toBe(1)
  })

  it('threats are newest first and paginate with a cursor', async () => {
    for (const ip of ['198.51.100.1', '198.51.100.2', '198.51.100.3']) {
      const r = await api(a, '/api/defense/network/alert', {
        method: 'POST',
        json: { indicator: ip, scenario: 'http-probing' },
      })
      expect(r.status).toBe(201)
    }
    const first = await api(a, '/api/defense/network/threats?limit=2')
    expect(first.body.items.map((x: any) => x.indicator)).toEqual(['198.51.100.3', '198.51.100.2'])
    expect(first.body.nextCursor).toBeTruthy()
    const second = await api(a, `/api/defense/network/threats?limit=2&cursor=${first.body.nextCursor}`)
    expect(second.body.items.map((x: any) => x.indicator)).toEqual(['198.51.100.1', '203.0.113.42'])
    expect(second.body.nextCursor).toBeNull()
    await waitFor(
      async () => (await api(b, '/api/defense/network/threats')).body.items.length === 4,
      5000,
      'all four on B',
    )
  })
})
