import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import SwaggerParser from '@apidevtools/swagger-parser'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { STIX_INDICATOR_REQUIRED } from '../node/integrations/stix.ts'
import { SIGNATURE_HEADER, verifySignature } from '../node/integrations/webhooks.ts'
import { openApiPath } from '../node/api/openapi/openapi-document.ts'
import type { ShieldwallNode } from '../node/shieldwall-node.ts'
import { api, startTestNode, stopAndRemove, waitFor } from './helpers/test-node.ts'

const PROMTOOL = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p))

describe('the API as operators, admins and integrations use it', () => {
  let node: ShieldwallNode
  let readToken: string
  let bouncerToken: string

  beforeAll(async () => {
    node = await startTestNode({ cli: { nodeName: 'contract' } })
    readToken = (await api(node, '/api/tokens', { method: 'POST', json: { scope: 'read' } })).body.token
    bouncerToken = (
      await api(node, '/api/tokens', { method: 'POST', json: { scope: 'bouncer', name: 'fw' } })
    ).body.token
  })
  afterAll(async () => {
    await stopAndRemove(node)
  })

  const as = (token: string) => ({ headers: { authorization: `Bearer ${token}` } })

  it('publishes a valid OpenAPI 3.1 document listing every route of the app', async () => {
    const res = await fetch(`${node.apiUrl}/openapi.json`)
    expect(res.status).toBe(200)
    const document = await res.json()
    // validate() dereferences in place: keep our copy for the route check
    await SwaggerParser.validate(structuredClone(document))
    expect(document.openapi).toBe('3.1.0')
    const { createApp } = await import('../node/api/app.ts')
    const { silentLogger } = await import('../node/logging/logger.ts')
    const app = createApp(node, 'x'.repeat(20), silentLogger())
    const missing = app.routes
      .filter((r) => r.method !== 'ALL' && !r.path.endsWith('*'))
      .filter((r) => document.paths[openApiPath(r.path)]?.[r.method.toLowerCase()] === undefined)
      .map((r) => `${r.method} ${r.path}`)
    expect(missing).toEqual([])
    expect(document.paths['/api/defense/network/blocklist'].put.requestBody).toBeDefined()
    expect(document.paths['/v1/decisions'].get['x-scope']).toBe('bouncer')
    const docs = await fetch(`${node.apiUrl}/docs`)
    expect(await docs.text()).toContain('/api/defense/network/peers/{id}')
  })

  it('enforces scopes: read cannot write, bouncer reaches only /v1/decisions*', async () => {
    const url = node.apiUrl
    expect((await fetch(`${url}/api/defense/network/status`, as(readToken))).status).toBe(200)
    const write = await fetch(`${url}/api/defense/network/alert`, {
      method: 'POST',
      headers: { authorization: `Bearer ${readToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ indicator: '203.0.113.1', scenario: 'manual' }),
    })
    expect(write.status).toBe(403)
    expect((await write.json()).error.message).toMatch(/read token cannot POST/)
    expect((await fetch(`${url}/v1/decisions?ip=203.0.113.1`, as(readToken))).status).toBe(403)
    expect((await fetch(`${url}/v1/decisions?ip=203.0.113.1`, as(bouncerToken))).status).toBe(200)
    expect((await fetch(`${url}/v1/decisions/stream?startup=true`, as(bouncerToken))).status).toBe(200)
    expect((await fetch(`${url}/api/defense/network/status`, as(bouncerToken))).status).toBe(403)
    expect((await fetch(`${url}/metrics`, as(bouncerToken))).status).toBe(403)
    expect((await fetch(`${url}/api/defense/network/status`, as('sw_not-a-token'))).status).toBe(401)
  })

  it.skipIf(PROMTOOL === undefined)('serves /metrics that pass promtool check metrics', async () => {
    await api(node, '/api/events', {
      method: 'POST',
      json: { events: [{ ip: '198.51.100.3', kind: 'auth_failure' }] },
    })
    const res = await fetch(`${node.apiUrl}/metrics`, as(readToken))
    expect(res.status).toBe(200)
    const text = await res.text()
    expect(text).toContain('shieldwall_ingest_events_total')
    expect(text).toContain('shieldwall_api_request_duration_seconds_bucket')
    expect(text).toContain('libp2p_') // libp2p's own metrics in the same registry
    const r = spawnSync(PROMTOOL as string, ['check', 'metrics'], { input: text, encoding: 'utf8' })
    expect(r.stdout + r.stderr).toBe('')
    expect(r.status).toBe(0)
  })

  it('delivers a signed webhook for a new decision, which the receiver verifies', async () => {
    const got: { body: string; signature: string | undefined }[] = []
    const server: Server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        got.push({
          body: Buffer.concat(chunks).toString('utf8'),
          signature: req.headers[SIGNATURE_HEADER] as string,
        })
        res.end('ok')
      })
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const { port } = server.address() as AddressInfo
    try {
      const hook = await api(node, '/api/webhooks', {
        method: 'POST',
        json: { url: `http://127.0.0.1:${port}/in`, events: ['decision.added'] },
      })
      expect(hook.status).toBe(201)
      const change = await api(node, '/api/defense/network/blocklist', {
        method: 'PUT',
        json: { add: [{ value: '203.0.113.99', durationSeconds: 600, reason: 'test' }] },
      })
      expect(change.status).toBe(200)
      const delivery = await waitFor(() => got[0], 5000, 'a webhook delivery')
      expect(verifySignature(hook.body.secret, delivery.body, delivery.signature ?? null)).toBe(true)
      expect(JSON.parse(delivery.body)).toMatchObject({
        event: 'decision.added',
        data: { value: '203.0.113.99' },
      })
      const log = await api(node, `/api/webhooks/${hook.body.id}/deliveries`)
      expect(log.body.items[0]).toMatchObject({ ok: true, status: 200 })
    } finally {
      server.close()
    }
  })

  it('exports threats as a STIX 2.1 bundle of Indicators and as CEF', async () => {
    await api(node, '/api/defense/network/alert', {
      method: 'POST',
      json: { indicator: '192.0.2.44', scenario: 'ssh-bf', severity: 'high', confidence: 0.9 },
    })
    const stix = (await api(node, '/api/defense/network/threats?format=stix')).body
    expect(stix.type).toBe('bundle')
    const indicator = stix.objects.find((o: { type: string }) => o.type === 'indicator')
    for (const field of STIX_INDICATOR_REQUIRED) expect(indicator[field], field).toBeDefined()
    expect(indicator.pattern).toBe("[ipv4-addr:value = '192.0.2.44']")
    const cef = (await api(node, '/api/defense/network/threats?format=cef')).body as string
    expect(cef).toMatch(/^CEF:0\|shieldwall\|shieldwall\|[^|]+\|ssh-bf\|/m)
  })

  it('answers GET /v1/decisions the same on the fast path as through the app', async () => {
    const { key } = (await api(node, '/api/bouncers', { method: 'POST', json: { name: 'fast' } })).body
    await api(node, '/api/defense/network/blocklist', {
      method: 'PUT',
      json: { add: [{ value: '198.51.100.0/24', durationSeconds: 600 }] },
    })
    const { createApp } = await import('../node/api/app.ts')
    const { silentLogger } = await import('../node/logging/logger.ts')
    const app = createApp(node, 'y'.repeat(20), silentLogger())
    for (const path of [
      '/v1/decisions?ip=198.51.100.7',
      '/v1/decisions?ip=203.0.113.250',
      '/v1/decisions?ip=bad',
    ]) {
      const viaServer = await fetch(node.apiUrl + path, { headers: { 'x-api-key': key } })
      const viaApp = await app.request(path, { headers: { 'x-api-key': key } })
      expect(viaServer.status, path).toBe(viaApp.status)
      // durations are time left, which moves between the two requests
      const shape = (text: string) => text.replace(/"duration":"[^"]+"/g, '"duration":"…"')
      expect(shape(await viaServer.text()), path).toBe(shape(await viaApp.text()))
    }
    const forbidden = await fetch(`${node.apiUrl}/v1/decisions?ip=198.51.100.7`, {
      headers: { 'x-api-key': 'nope' },
    })
    expect(forbidden.status).toBe(403)
  })

  it('refuses blocks on allowlisted addresses with a clear error, and keeps bad input from the store', async () => {
    const res = await api(node, '/api/defense/network/blocklist', {
      method: 'PUT',
      json: { add: [{ value: '127.0.0.1' }] },
    })
    expect(res.status).toBe(409)
    expect(res.body.error.message).toMatch(/allowlist/)
    const bad = await api(node, '/api/defense/network/blocklist', {
      method: 'PUT',
      json: { add: [{ value: 'nope' }] },
    })
    expect(bad.status).toBe(400)
    expect(bad.body.error.field).toBe('add.0.value')
    const list = await api(node, '/api/defense/network/blocklist?format=plain')
    expect(list.body).toContain('203.0.113.99')
    expect(list.body).not.toContain('127.0.0.1')
  })
})
