import { once } from 'node:events'
import { rm } from 'node:fs/promises'
import { request, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tempDir, waitFor } from '../../../test/helpers/test-node.ts'
import { bouncerService, type BouncerService } from '../../bouncer/bouncer-service.ts'
import { MemoryBlocklist } from '../../bouncer/memory-blocklist.ts'
import { silentLogger } from '../../logging/logger.ts'
import { openStore, type Store } from '../../store/open-store.ts'
import { errorHandler } from '../errors.ts'
import { decisionStreamRoutes } from './decision-stream.ts'

interface SseEvent {
  event?: string
  id?: string
  data: string
}

/** Reads server-sent events off a response body, one at a time. */
function sseReader(res: Response) {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader()
  const decoder = new TextDecoder()
  let buffer = ''
  return {
    async next(timeoutMs = 30_000): Promise<SseEvent> {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const end = buffer.indexOf('\n\n')
        if (end >= 0) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const ev: SseEvent = { data: '' }
          for (const line of block.split('\n')) {
            const colon = line.indexOf(':')
            const field = line.slice(0, colon)
            const value = line.slice(colon + 2)
            if (field === 'event') ev.event = value
            else if (field === 'id') ev.id = value
            else if (field === 'data') ev.data += value
          }
          return ev
        }
        const left = deadline - Date.now()
        if (left <= 0) throw new Error(`no event within ${timeoutMs} ms; buffer: ${JSON.stringify(buffer)}`)
        let timer: NodeJS.Timeout | undefined
        const chunk = await Promise.race([
          reader.read(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no event within ${timeoutMs} ms`)), left)
          }),
        ])
        clearTimeout(timer)
        if (chunk.done) throw new Error('stream ended')
        buffer += decoder.decode(chunk.value, { stream: true })
      }
    },
    cancel: () => reader.cancel(),
  }
}

describe('decision change stream (SSE)', () => {
  let dir: string
  let store: Store
  let service: BouncerService
  let list: MemoryBlocklist
  let app: Hono
  const open = (query = '', headers: Record<string, string> = {}) =>
    app.request(`/api/defense/decisions/stream${query}`, { headers })

  beforeAll(async () => {
    dir = await tempDir('shieldwall-sse-')
    store = await openStore(dir)
    list = new MemoryBlocklist()
    service = bouncerService({ journalCapacity: 5 })({ store, blocklist: list, logger: silentLogger() })
    await service.start()
    app = new Hono()
    app.onError(errorHandler(silentLogger()))
    app.route('/api/defense/decisions/stream', decisionStreamRoutes(service, { heartbeatMs: 200 }))
  })
  afterAll(async () => {
    await service.stop()
    await store.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('sends a snapshot when asked, then each change as it happens, with heartbeats in between', async () => {
    list.block({ value: '192.0.2.1', scenario: 'ssh-bf' })
    const res = await open('?snapshot=true')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/event-stream')
    const sse = sseReader(res)
    const first = await sse.next()
    expect(first.event).toBe('added')
    expect(JSON.parse(first.data)).toMatchObject({ value: '192.0.2.1', scenario: 'ssh-bf', scope: 'ip' })
    expect(JSON.parse(first.data).expiresAt).toMatch(/^\d{4}-\d\d-\d\dT/)
    const synced = await sse.next()
    expect(synced.event).toBe('synced')
    expect(synced.id).toBe(`${service.journal.epoch}.${service.journal.head}`)

    list.block({ value: '198.51.100.0/24' })
    const added = await sse.next()
    expect(added.event).toBe('added')
    expect(JSON.parse(added.data).value).toBe('198.51.100.0/24')
    expect(added.id).toBe(`${service.journal.epoch}.${service.journal.head}`)
    list.unblock('192.0.2.1')
    const removed = await sse.next()
    expect(removed.event).toBe('removed')
    expect(JSON.parse(removed.data)).toMatchObject({ value: '192.0.2.1', removal: 'manual' })

    expect((await sse.next()).event).toBe('heartbeat')
    await sse.cancel()
  })

  it('without a snapshot starts at "synced" and only sends changes', async () => {
    const sse = sseReader(await open())
    const synced = await sse.next()
    expect(synced.event).toBe('synced')
    expect(JSON.parse(synced.data).snapshot).toBe(false)
    list.block({ value: '203.0.113.5' })
    expect(JSON.parse((await sse.next()).data).value).toBe('203.0.113.5')
    await sse.cancel()
  })

  it('resumes from Last-Event-ID while the journal holds the missed changes', async () => {
    const sse = sseReader(await open())
    const synced = await sse.next()
    await sse.cancel()
    list.block({ value: '203.0.113.6' })
    list.block({ value: '203.0.113.7' })
    const resumed = sseReader(await open('', { 'last-event-id': synced.id as string }))
    expect(JSON.parse((await resumed.next()).data).value).toBe('203.0.113.6')
    expect(JSON.parse((await resumed.next()).data).value).toBe('203.0.113.7')
    await resumed.cancel()
  })

  it('sends reset (and the snapshot again) when it cannot resume', async () => {
    const sse = sseReader(await open())
    const synced = await sse.next()
    await sse.cancel()
    for (let i = 10; i < 20; i++) list.block({ value: `203.0.113.${i}` })
    const late = sseReader(await open('?snapshot=true', { 'last-event-id': synced.id as string }))
    const reset = await late.next()
    expect(reset.event).toBe('reset')
    expect(JSON.parse(reset.data).reason).toContain('no longer held')
    let count = 0
    for (;;) {
      const ev = await late.next()
      if (ev.event === 'synced') break
      expect(ev.event).toBe('added')
      count++
    }
    expect(count).toBe(list.size)
    await late.cancel()

    const stranger = sseReader(await open('', { 'last-event-id': 'otherepoch.3' }))
    expect((await stranger.next()).event).toBe('reset')
    expect((await stranger.next()).event).toBe('synced')
    await stranger.cancel()
  })

  it('stops following the journal when the client goes away', async () => {
    // only open streams listen to the journal: once the earlier tests' streams have detached, none is left
    await waitFor(() => service.journal.listenerCount === 0, 30_000, 'the earlier streams to detach')
    const sse = sseReader(await open())
    await sse.next()
    expect(service.journal.listenerCount).toBe(1)
    await sse.cancel()
    await waitFor(() => service.journal.listenerCount === 0, 30_000, 'the stream to detach')
  })

  it('answers 400 for a bad snapshot parameter', async () => {
    const res = await open('?snapshot=yes')
    expect(res.status).toBe(400)
    expect((await res.json()).error.message).toContain('snapshot')
  })
})

describe('decision stream limits', () => {
  let dir: string
  let store: Store
  let service: BouncerService
  let list: MemoryBlocklist
  let app: Hono
  let now = Date.UTC(2025, 0, 1)

  beforeAll(async () => {
    dir = await tempDir('shieldwall-sse-limits-')
    store = await openStore(dir)
    const clock = () => now
    list = new MemoryBlocklist({ clock })
    // 20,000 events of 2 KB: more than loopback's socket buffers take from a client that reads nothing
    const reasons = ['x'.repeat(2048)]
    for (let i = 0; i < 20_000; i++) {
      const value = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`
      list.block({ value, durationMs: 86_400_000, reasons })
    }
    service = bouncerService({
      streams: { maxPerToken: 2, maxTotal: 3, bufferBytes: 131_072, stallSeconds: 60 },
    })({ store, blocklist: list, logger: silentLogger(), clock })
    await service.start()
    app = new Hono<{ Variables: { tokenName: string } }>()
      .use('*', async (c, next) => {
        c.set('tokenName', c.req.header('x-token') ?? 'anonymous')
        await next()
      })
      .route('/stream', decisionStreamRoutes(service)) as unknown as Hono
    app.onError(errorHandler(silentLogger()))
  })
  afterAll(async () => {
    await service.stop()
    await store.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('refuses streams past the cap per token and in all with 429 in the API error shape', async () => {
    const open = (token: string) => app.request('/stream?snapshot=true', { headers: { 'x-token': token } })
    const a1 = await open('a')
    const a2 = await open('a')
    const a3 = await open('a')
    expect(a3.status).toBe(429)
    expect(a3.headers.get('retry-after')).toBe('10')
    expect(await a3.json()).toEqual({
      error: { status: 429, message: expect.stringContaining('for this token (at most 2)') },
    })
    const b1 = await open('b')
    const b2 = await open('b')
    expect(b2.status).toBe(429)
    expect((await b2.json()).error.message).toContain('on this node (at most 3)')
    // a HEAD holds no slot
    expect((await app.request('/stream', { method: 'HEAD', headers: { 'x-token': 'b' } })).status).toBe(200)
    for (const res of [a1, a2, b1]) await res.body?.cancel()
    expect(service.streams.counts.open).toBe(0)
  })

  it('disconnects a client that leaves its snapshot unread for stallSeconds (clock injected)', async () => {
    const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 })
    await once(server, 'listening')
    const { port } = server.address() as AddressInfo
    try {
      const res = await new Promise<IncomingMessage>((resolve, reject) => {
        const req = request(`http://127.0.0.1:${port}/stream?snapshot=true`, { agent: false }, resolve)
        req.once('error', reject)
        req.end()
      })
      expect(res.statusCode).toBe(200)
      // cut off: the client sees its response end early ('aborted')
      res.on('error', () => {})
      const closed = new Promise((resolve) => res.once('close', resolve))
      // never read: once its socket is full the stream waits for the client, holding at most bufferBytes
      await waitFor(
        () => {
          const [s] = service.streams.streams()
          // output handed over and left unsent: the socket is full
          return s?.waitingSince !== undefined && (s.queued ?? 0) > 0
        },
        30_000,
        'a full socket',
      )
      const [stream] = service.streams.streams()
      expect(stream.queued).toBeLessThanOrEqual(131_072)
      now += 59_000
      expect(service.streams.sweep()).toBe(0)
      now += 1_000
      expect(service.streams.sweep()).toBe(1)
      // the server has closed its end; the client notices once it reads again
      await waitFor(
        () => new Promise<boolean>((r) => server.getConnections((_, n) => r(n === 0))),
        30_000,
        'the server to close the connection',
      )
      res.resume()
      await closed
      expect(service.streams.counts).toMatchObject({ open: 0, dropped: 1 })
    } finally {
      server.close()
    }
  })
})
