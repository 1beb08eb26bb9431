import { rm } from 'node:fs/promises'
import { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tempDir } from '../../../test/helpers/test-node.ts'
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
    async next(timeoutMs = 3000): Promise<SseEvent> {
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

    expect((await sse.next(1000)).event).toBe('heartbeat')
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
    await new Promise((r) => setTimeout(r, 50))
    const before = service.journal.listenerCount
    const sse = sseReader(await open())
    await sse.next()
    expect(service.journal.listenerCount).toBe(before + 1)
    await sse.cancel()
    await new Promise((r) => setTimeout(r, 50))
    expect(service.journal.listenerCount).toBe(before)
  })

  it('answers 400 for a bad snapshot parameter', async () => {
    const res = await open('?snapshot=yes')
    expect(res.status).toBe(400)
    expect((await res.json()).error.message).toContain('snapshot')
  })
})
