import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ShieldwallNode } from '../shieldwall-node.ts'
import { stopAndRemove } from '../../test/helpers/test-node.ts'
import { authedRequest, startTestApp, type TestApp } from './test-app.ts'

const TOKEN = 'test-token-0123456789abcdef'

describe('control API', () => {
  let node: ShieldwallNode
  let app: TestApp
  const authed = authedRequest(() => app, TOKEN)
  const post = (path: string, body: string) => authed(path, { method: 'POST', body })

  beforeAll(async () => {
    ;({ node, app } = await startTestApp(TOKEN))
  })
  afterAll(async () => {
    await stopAndRemove(node)
  })

  it('serves /healthz without a token', async () => {
    const res = await app.request('/healthz')
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ status: 'ok' })
  })

  it('answers 401 with the error shape for a missing or wrong token', async () => {
    const missing = await app.request('/api/defense/network/status')
    expect(missing.status).toBe(401)
    expect(missing.headers.get('www-authenticate')).toContain('Bearer')
    expect(await missing.json()).toEqual({ error: { status: 401, message: 'missing bearer token' } })
    const wrong = await app.request('/api/defense/network/status', {
      headers: { authorization: 'Bearer nope' },
    })
    expect(wrong.status).toBe(401)
    expect((await wrong.json()).error.message).toBe('invalid token')
  })

  it('answers 400 naming the field for invalid alert input', async () => {
    const cases: Array<[string, string]> = [
      ['{"indicator":"999.1.1.1","scenario":"ssh-bf"}', 'indicator'],
      ['{"indicator":"192.0.2.1","scenario":"Bad Name!"}', 'scenario'],
      ['{"indicator":"192.0.2.1","scenario":"ssh-bf","confidence":2}', 'confidence'],
      ['{"indicator":"192.0.2.1","scenario":"ssh-bf","severity":"extreme"}', 'severity'],
      ['{"indicator":"192.0.2.1","scenario":"ssh-bf","ttlSeconds":-5}', 'ttlSeconds'],
      ['{"indicator":"192.0.2.1","scenario":"ssh-bf","ttlSeconds":99999999}', 'ttlSeconds'],
      ['{"scenario":"ssh-bf"}', 'indicator'],
      ['{"indicator":"192.0.2.1","scenario":"ssh-bf","extra":1}', ''],
    ]
    for (const [body, field] of cases) {
      const res = await post('/api/defense/network/alert', body)
      expect(res.status, body).toBe(400)
      const json = await res.json()
      expect(json.error.status).toBe(400)
      if (field !== '') expect(json.error.message, body).toContain(field)
    }
  })

  it('answers 400 for a body that is not JSON', async () => {
    const res = await post('/api/defense/network/alert', '{"indicator": ')
    expect(res.status).toBe(400)
    expect((await res.json()).error.status).toBe(400)
  })

  it('answers 400 for a join without a peer id and 502 for an unreachable peer', async () => {
    const noPeer = await post('/api/defense/network/join', '{"multiaddr":"/ip4/127.0.0.1/tcp/1"}')
    expect(noPeer.status).toBe(400)
    expect((await noPeer.json()).error.message).toContain('/p2p/')
    const garbage = await post('/api/defense/network/join', '{"multiaddr":"not a multiaddr"}')
    expect(garbage.status).toBe(400)
    const unreachable = await post(
      '/api/defense/network/join',
      '{"multiaddr":"/ip4/127.0.0.1/tcp/1/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN"}',
    )
    expect(unreachable.status).toBe(502)
  })

  it('normalises the indicator before signing and returns the stored alert', async () => {
    const res = await post(
      '/api/defense/network/alert',
      '{"indicator":"2001:DB8:0:0::1","scenario":"manual","ttlSeconds":60}',
    )
    expect(res.status).toBe(201)
    const body = await res.json()
    expect(body).toMatchObject({
      indicator: '2001:db8::1',
      scenario: 'manual',
      severity: 'medium',
      verified: true,
      local: true,
    })
    expect(Date.parse(body.expiresAt) - Date.parse(body.createdAt)).toBe(60_000)
  })

  it('validates the threats query', async () => {
    expect((await authed('/api/defense/network/threats?limit=0')).status).toBe(400)
    expect((await authed('/api/defense/network/threats?limit=abc')).status).toBe(400)
    const ok = await authed('/api/defense/network/threats?limit=1')
    expect(ok.status).toBe(200)
    expect((await ok.json()).items.length).toBeLessThanOrEqual(1)
  })

  it('answers 404 in the error shape for unknown routes', async () => {
    const res = await authed('/api/nope')
    expect(res.status).toBe(404)
    expect((await res.json()).error.status).toBe(404)
  })
})
