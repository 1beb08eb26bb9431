import { rm } from 'node:fs/promises'
import { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tempDir } from '../../../test/helpers/test-node.ts'
import { bouncerService, type BouncerService } from '../../bouncer/bouncer-service.ts'
import { MemoryBlocklist } from '../../bouncer/memory-blocklist.ts'
import { silentLogger } from '../../logging/logger.ts'
import { openStore, type Store } from '../../store/open-store.ts'
import { errorHandler } from '../errors.ts'
import { bouncerDecisionRoutes } from './bouncer-decisions.ts'

interface BouncerApi {
  dir: string
  store: Store
  service: BouncerService
  app: Hono
  /** the key of the one bouncer, "fw" */
  key: string
}

/** a bouncer service over `list` in its own store, its /v1 routes on a Hono app, and one bouncer key */
async function openBouncerApi(
  prefix: string,
  list: MemoryBlocklist,
  options?: Parameters<typeof bouncerService>[0],
): Promise<BouncerApi> {
  const dir = await tempDir(prefix)
  const store = await openStore(dir)
  const service = bouncerService(options)({ store, blocklist: list, logger: silentLogger() })
  await service.start()
  const key = (await service.keys.add('fw')).key
  const app = new Hono()
  app.onError(errorHandler(silentLogger()))
  app.route('/v1', bouncerDecisionRoutes(service))
  return { dir, store, service, app, key }
}

async function closeBouncerApi({ service, store, dir }: BouncerApi): Promise<void> {
  await service.stop()
  await store.close()
  await rm(dir, { recursive: true, force: true })
}

describe('CrowdSec bouncer API (/v1)', () => {
  let api: BouncerApi
  let service: BouncerService
  let list: MemoryBlocklist
  let app: Hono
  const get = (path: string, init: RequestInit = {}) =>
    app.request(path, { ...init, headers: { 'x-api-key': api.key, ...init.headers } })

  beforeAll(async () => {
    list = new MemoryBlocklist()
    api = await openBouncerApi('shieldwall-lapi-', list)
    ;({ service, app } = api)
  })
  afterAll(() => closeBouncerApi(api))

  it('answers 403 "access forbidden" without a valid X-Api-Key, as LAPI does', async () => {
    for (const headers of [{}, { 'x-api-key': 'nope' }, { 'x-api-key': '' }] as Record<string, string>[]) {
      const res = await app.request('/v1/decisions?ip=192.0.2.1', { headers })
      expect(res.status).toBe(403)
      const body = await res.json()
      expect(body.message).toBe('access forbidden')
      expect(body.error).toEqual({ status: 403, message: 'access forbidden' })
    }
    const stream = await app.request('/v1/decisions/stream?startup=true', { headers: { 'x-api-key': 'x' } })
    expect(stream.status).toBe(403)
  })

  it('GET /v1/decisions?ip= gives the covering decisions, or null for none', async () => {
    const host = list.block({
      value: '203.0.113.7',
      scenario: 'ssh-bf',
      origin: 'local',
      durationMs: 3600_000,
    })
    const net = list.block({ value: '203.0.113.0/24', scenario: 'http-crawl', origin: 'community' })
    const res = await get('/v1/decisions?ip=203.0.113.7')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('application/json')
    const body = await res.json()
    expect(body.map((d: { id: number }) => d.id)).toEqual([host.id, net.id])
    expect(body[0]).toMatchObject({
      origin: 'crowdsec',
      type: 'ban',
      scope: 'Ip',
      value: '203.0.113.7',
      scenario: 'shieldwall/ssh-bf',
    })
    expect(body[0].duration).toMatch(/^59m5\d(\.\d+)?s$/)
    const miss = await get('/v1/decisions?ip=198.51.100.1')
    expect(miss.status).toBe(200)
    expect(await miss.text()).toBe('null')
    expect(await (await get('/v1/decisions?ip=::ffff:203.0.113.9')).json()).toHaveLength(1)
    expect(await (await get('/v1/decisions?range=203.0.113.0/25&contains=false')).json()).toHaveLength(1)
    expect(await (await get('/v1/decisions?scope=range')).json()).toHaveLength(1)
    expect(await (await get('/v1/decisions?ip=203.0.113.7&scenarios_containing=ssh')).json()).toHaveLength(1)
    expect(await (await get('/v1/decisions?ip=203.0.113.7&simulated=false')).json()).toHaveLength(2)
    list.unblock('203.0.113.7')
    list.unblock('203.0.113.0/24')
  })

  it('answers 400 naming the parameter for an address that does not parse', async () => {
    const res = await get('/v1/decisions?ip=999.1.1.1')
    expect(res.status).toBe(400)
    const body = await res.json()
    expect(body.message).toContain('ip')
    expect(body.error.field).toBe('ip')
    expect((await get('/v1/decisions?ip=192.0.2.1&contains=maybe')).status).toBe(400)
    expect((await get('/v1/decisions?ip=192.0.2.1&contains=constructor')).status).toBe(400)
    expect((await get(`/v1/decisions?scenarios_containing=${'x'.repeat(5000)}`)).status).toBe(400)
    expect((await get('/v1/decisions?range=nope')).status).toBe(400)
  })

  it('HEAD works on both endpoints and does not move the stream cursor', async () => {
    const head = await get('/v1/decisions?ip=192.0.2.1', { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(await head.text()).toBe('')
    await get('/v1/decisions/stream?startup=true')
    list.block({ value: '192.0.2.44' })
    expect((await get('/v1/decisions/stream', { method: 'HEAD' })).status).toBe(200)
    const delta = await (await get('/v1/decisions/stream')).json()
    expect(delta.new.map((d: { value: string }) => d.value)).toEqual(['192.0.2.44'])
    list.unblock('192.0.2.44')
    await get('/v1/decisions/stream')
  })

  it('streams: startup gives everything, later pulls only the changes, empty as []', async () => {
    list.block({ value: '192.0.2.1', scenario: 'ssh-bf' })
    list.block({ value: '2001:db8::/48', scenario: 'http-probe' })
    const startup = await (await get('/v1/decisions/stream?startup=true')).json()
    expect(startup.new.map((d: { value: string }) => d.value).sort()).toEqual(['192.0.2.1', '2001:db8::/48'])
    expect(Array.isArray(startup.deleted)).toBe(true)
    expect(await (await get('/v1/decisions/stream?startup=false')).json()).toEqual({ new: [], deleted: [] })
    list.unblock('192.0.2.1')
    list.block({ value: '198.51.100.3', scenario: 'ssh-bf' })
    const delta = await (await get('/v1/decisions/stream')).json()
    expect(delta.new.map((d: { value: string }) => d.value)).toEqual(['198.51.100.3'])
    expect(delta.deleted.map((d: { value: string }) => d.value)).toEqual(['192.0.2.1'])
    // time left at removal: none (0s within the same millisecond)
    expect(delta.deleted[0].duration).toMatch(/^(-.*|0s)$/)
    // filters as go-cs-bouncer sends them
    list.block({ value: '198.51.100.4', scenario: 'http-crawl' })
    list.block({ value: '198.51.100.0/24', scenario: 'ssh-bf' })
    const filtered = await (
      await get('/v1/decisions/stream?scopes=ip&scenarios_not_containing=crawl&origins=cscli')
    ).json()
    expect(filtered).toEqual({ new: [], deleted: [] })
    const all = await (await get('/v1/decisions/stream?startup=true&scopes=Ip,Range&origins=cscli')).json()
    expect(all.new).toHaveLength(4)
  })

  it('writes a large startup answer in chunks that parse as one document, and moves the cursor after it', async () => {
    for (let i = 0; i < 5000; i++) list.block({ value: `10.${(i >> 8) & 255}.${i & 255}.1` })
    const res = await get('/v1/decisions/stream?startup=true')
    const body = await res.json()
    expect(body.new.length).toBeGreaterThanOrEqual(5000)
    expect(new Set(body.new.map((d: { id: number }) => d.id)).size).toBe(body.new.length)
    expect(await (await get('/v1/decisions/stream')).json()).toEqual({ new: [], deleted: [] })
  })

  it('records the pull time and accepts usage metrics', async () => {
    expect(service.keys.get('fw')?.lastPull).toBeGreaterThan(0)
    const res = await get('/v1/usage-metrics', {
      method: 'POST',
      body: JSON.stringify({ remediation_components: [] }),
      headers: { 'content-type': 'application/json' },
    })
    expect(res.status).toBe(201)
  })
})

describe('CrowdSec bouncer API: long answers', () => {
  let api: BouncerApi
  let service: BouncerService
  const get = (path: string) => api.app.request(path, { headers: { 'x-api-key': api.key } })

  beforeAll(async () => {
    const list = new MemoryBlocklist()
    for (let i = 0; i < 5000; i++)
      list.block({ value: `10.${(i >> 8) & 255}.${i & 255}.1`, scenario: 'ssh-bf' })
    list.block({ value: '198.51.100.0/24', scenario: 'http-crawl' })
    api = await openBouncerApi('shieldwall-lapi-long-', list, { streams: { maxPerToken: 1 } })
    service = api.service
  })
  afterAll(() => closeBouncerApi(api))

  it('lists the whole list as it is read: one JSON array by id, or null when nothing matches', async () => {
    const all = await (await get('/v1/decisions')).json()
    expect(all).toHaveLength(5001)
    const ids = all.map((d: { id: number }) => d.id)
    expect(ids).toEqual([...ids].sort((a: number, b: number) => a - b))
    const none = await get('/v1/decisions?scenarios_containing=nothing-like-this')
    expect(await none.text()).toBe('null')
    const range = await (await get('/v1/decisions?range=198.51.100.0/16&contains=false')).json()
    expect(range.map((d: { value: string }) => d.value)).toEqual(['198.51.100.0/24'])
    expect(service.streams.counts.open).toBe(0)
    expect(service.feed.snapshots.builds).toBe(1)
  })

  it('refuses a long answer past the cap per bouncer with 429 in both error shapes', async () => {
    const first = await get('/v1/decisions/stream?startup=true')
    expect(first.status).toBe(200)
    const second = await get('/v1/decisions/stream?startup=true')
    expect(second.status).toBe(429)
    expect(second.headers.get('retry-after')).toBe('10')
    const body = await second.json()
    expect(body.message).toContain('too many open streams')
    expect(body.error).toMatchObject({ status: 429 })
    // the first answer, read whole, is one document; its slot is then free again
    expect((await first.json()).new).toHaveLength(5001)
    expect(service.streams.counts.open).toBe(0)
    expect((await get('/v1/decisions/stream?startup=true')).status).toBe(200)
  })
})
