import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ShieldwallNode } from '../../shieldwall-node.ts'
import { stopAndRemove } from '../../../test/helpers/test-node.ts'
import { authedRequest, startTestApp, type TestApp } from '../test-app.ts'

// Hostile or mistaken input to the control API is a 400 naming the field, checked by the same rule the
// consumer (exporter, reputation book, bouncers) applies, never a 500 and never a silent success.

const TOKEN = 'test-token-0123456789abcdef'
// an RSA peer id (the IPFS bootstrap node's): a real peer id, but not one a shieldwall node can have
const RSA_PEER_ID = 'QmNnooDu7bfjPFoTZYxMNLWUQJyrVwtbZg5gBMjTezGAJN'

describe('control API input errors', () => {
  let node: ShieldwallNode
  let app: TestApp
  const authed = authedRequest(() => app, TOKEN)

  beforeAll(async () => {
    ;({ node, app } = await startTestApp(TOKEN))
  })
  afterAll(async () => {
    await stopAndRemove(node)
  })

  it('refines an nft/ipset set name at the route by the exporter rule (400, not 500)', async () => {
    for (const name of ['Foo', 'a-b', 'a'.repeat(27)]) {
      for (const format of ['nft', 'ipset']) {
        const res = await authed(`/api/defense/network/blocklist?format=${format}&name=${name}`)
        expect(res.status, `${format} ${name}`).toBe(400)
        expect((await res.json()).error).toMatchObject({ status: 400, field: 'name' })
      }
    }
    const ok = await authed('/api/defense/network/blocklist?format=nft&name=edge_fw')
    expect(ok.status).toBe(200)
    expect(await ok.text()).toContain('table inet edge_fw')
  })

  it('answers 400 for an ?ip= that is not an address', async () => {
    for (const format of ['json', 'plain']) {
      const res = await authed(`/api/defense/network/blocklist?format=${format}&ip=notanip`)
      expect(res.status, format).toBe(400)
      expect((await res.json()).error).toMatchObject({ status: 400, field: 'ip' })
    }
    expect((await authed('/api/defense/network/blocklist?ip=192.0.2.1')).status).toBe(200)
    const typo = await authed('/api/defense/network/blocklist?orign=manual')
    expect(typo.status).toBe(400)
    expect((await typo.json()).error).toMatchObject({ field: 'orign' })
  })

  it('answers 400 naming ?ip= on routes that have no such filter instead of an unfiltered list', async () => {
    for (const path of [
      '/api/defense/decisions',
      '/api/defense/network/threats',
      '/api/defense/network/peers',
    ]) {
      const res = await authed(`${path}?ip=notanip`)
      expect(res.status, path).toBe(400)
      expect((await res.json()).error, path).toMatchObject({ status: 400, field: 'ip' })
      expect((await authed(`${path}?limit=5`)).status, path).toBe(200)
    }
  })

  it('pins only Ed25519 peer ids', async () => {
    for (const id of ['111111', RSA_PEER_ID]) {
      const res = await authed(`/api/defense/network/peers/${id}`, {
        method: 'PUT',
        body: JSON.stringify({ pin: 'trusted' }),
      })
      expect(res.status, id).toBe(400)
      expect((await res.json()).error).toMatchObject({ status: 400, field: 'id' })
      expect(node.reputation.get(id)).toBeUndefined()
    }
    const peer = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'
    const res = await authed(`/api/defense/network/peers/${peer}`, {
      method: 'PUT',
      body: JSON.stringify({ pin: 'trusted' }),
    })
    expect(res.status).toBe(200)
    expect((await res.json()).pinned).toBe('trusted')
  })

  it('refuses to join a multiaddr whose peer id is not Ed25519, before dialling', async () => {
    for (const id of ['111111', RSA_PEER_ID]) {
      const res = await authed('/api/defense/network/join', {
        method: 'POST',
        body: JSON.stringify({ multiaddr: `/ip4/127.0.0.1/tcp/1/p2p/${id}` }),
      })
      expect(res.status, id).toBe(400)
      expect((await res.json()).error, id).toMatchObject({ status: 400, field: 'multiaddr' })
    }
  })

  it("restricts a manual entry's scenario to the alert scenario charset", async () => {
    for (const scenario of ['<script>', 'a\nb', 'a\u0000b', 'Upper', 'x'.repeat(65)]) {
      const res = await authed('/api/defense/network/blocklist', {
        method: 'PUT',
        body: JSON.stringify({ add: [{ value: '198.51.100.9', scenario }] }),
      })
      expect(res.status, JSON.stringify(scenario)).toBe(400)
      expect((await res.json()).error).toMatchObject({ status: 400, field: 'add.0.scenario' })
    }
    expect(node.blocklist.lookup('198.51.100.9')).toEqual([])
    const ok = await authed('/api/defense/network/blocklist', {
      method: 'PUT',
      body: JSON.stringify({ add: [{ value: '198.51.100.9', scenario: 'honeypot/ssh' }] }),
    })
    expect(ok.status).toBe(200)
  })
})
