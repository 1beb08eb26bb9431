import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stopAndRemove } from '../../../test/helpers/test-node.ts'
import type { ShieldwallNode } from '../../shieldwall-node.ts'
import { authedRequest, startTestApp, type TestApp } from '../test-app.ts'

const TOKEN = 'test-token-bouncers-0123456789'

describe('bouncer admin API (/api/bouncers) on a node', () => {
  let node: ShieldwallNode
  let app: TestApp
  const admin = authedRequest(() => app, TOKEN)

  beforeAll(async () => {
    ;({ node, app } = await startTestApp(TOKEN))
  })
  afterAll(async () => {
    await stopAndRemove(node)
  })

  it('needs the bearer token', async () => {
    expect((await app.request('/api/bouncers')).status).toBe(401)
  })

  it('adds a bouncer (showing its key once), lists it without the key and deletes it', async () => {
    const created = await admin('/api/bouncers', {
      method: 'POST',
      body: JSON.stringify({ name: 'nginx-1' }),
    })
    expect(created.status).toBe(201)
    const { key, name, createdAt } = await created.json()
    expect(name).toBe('nginx-1')
    expect(createdAt).toMatch(/^\d{4}-/)
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/)

    // the key works on /v1 at once
    const pull = await app.request('/v1/decisions/stream?startup=true', { headers: { 'x-api-key': key } })
    expect(pull.status).toBe(200)
    expect(await pull.json()).toEqual({ new: [], deleted: [] })

    const list = await (await admin('/api/bouncers')).json()
    expect(list.items).toHaveLength(1)
    expect(list.items[0].name).toBe('nginx-1')
    expect(list.items[0].lastPull).toMatch(/^\d{4}-/)
    expect(JSON.stringify(list)).not.toContain(key)

    const dup = await admin('/api/bouncers', { method: 'POST', body: JSON.stringify({ name: 'nginx-1' }) })
    expect(dup.status).toBe(409)
    expect((await dup.json()).error.field).toBe('name')

    expect((await admin('/api/bouncers/nginx-1', { method: 'DELETE' })).status).toBe(204)
    expect((await admin('/api/bouncers/nginx-1', { method: 'DELETE' })).status).toBe(404)
    const revoked = await app.request('/v1/decisions?ip=192.0.2.1', { headers: { 'x-api-key': key } })
    expect(revoked.status).toBe(403)
  })

  it('answers 400 naming the field for a bad name', async () => {
    for (const body of ['{"name":"has space"}', '{"name":""}', '{}', '{"name":"a","extra":1}']) {
      const res = await admin('/api/bouncers', { method: 'POST', body })
      expect(res.status, body).toBe(400)
    }
  })

  it('serves decisions from the node blocklist to bouncers and to the change stream', async () => {
    const { key } = await (
      await admin('/api/bouncers', { method: 'POST', body: JSON.stringify({ name: 'fw' }) })
    ).json()
    await node.blocklist.add('203.0.113.50', { durationSeconds: 600, scenario: 'ssh-bf' })
    const res = await app.request('/v1/decisions?ip=203.0.113.50', { headers: { 'x-api-key': key } })
    const [decision] = await res.json()
    expect(decision).toMatchObject({
      value: '203.0.113.50',
      scope: 'Ip',
      origin: 'cscli',
      scenario: 'shieldwall/ssh-bf',
    })
    expect(decision.duration).toMatch(/^9m5\d/)
    await node.blocklist.remove('203.0.113.50')
    expect(
      await (await app.request('/v1/decisions?ip=203.0.113.50', { headers: { 'x-api-key': key } })).text(),
    ).toBe('null')
    const sse = await admin('/api/defense/decisions/stream')
    expect(sse.headers.get('content-type')).toBe('text/event-stream')
    await sse.body?.cancel()
  })
})
