import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { pino } from 'pino'
import { silentLogger } from '../logging/logger.ts'
import { openStore, type Store } from '../store/open-store.ts'
import { backoffMs, SIGNATURE_HEADER, signBody, verifySignature, webhookService } from './webhooks.ts'

type Received = { headers: IncomingMessage['headers']; body: string }

async function receiver(statuses: number[]): Promise<{ server: Server; url: string; got: Received[] }> {
  const got: Received[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      got.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') })
      res.statusCode = statuses[Math.min(got.length - 1, statuses.length - 1)]
      res.end()
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as AddressInfo
  return { server, url: `http://127.0.0.1:${port}/hook`, got }
}

async function until(check: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe('webhook signatures', () => {
  it('matches HMAC-SHA256 test case 2 of RFC 4231', () => {
    expect(signBody('Jefe', 'what do ya want for nothing?')).toBe(
      'sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    )
  })
  it('verifies only the exact body with the right secret', () => {
    const sig = signBody('s3cret', '{"a":1}')
    expect(verifySignature('s3cret', '{"a":1}', sig)).toBe(true)
    expect(verifySignature('s3cret', '{"a":2}', sig)).toBe(false)
    expect(verifySignature('other', '{"a":1}', sig)).toBe(false)
    expect(verifySignature('s3cret', '{"a":1}', null)).toBe(false)
  })
  it('backs off exponentially up to the cap', () => {
    const init = { initialBackoffMs: 100, maxBackoffMs: 500 }
    expect([1, 2, 3, 4, 5].map((n) => backoffMs(n, init))).toEqual([0, 100, 200, 400, 500])
  })
})

describe('WebhookService', () => {
  let dir: string
  let store: Store
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sw-webhooks-'))
    store = await openStore(dir)
  })
  afterEach(async () => {
    await store.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('delivers a signed event the receiver can verify, retrying a 503, and logs the delivery', async () => {
    const r = await receiver([503, 200])
    const service = webhookService({ initialBackoffMs: 20 })({
      store,
      logger: silentLogger(),
      source: 'peer-x',
    })
    await service.start()
    const hook = await service.add({ url: r.url, events: ['decision.added'] })
    service.emit('alert.received', { ignored: true })
    service.emit('decision.added', { value: '203.0.113.9', scenario: 'ssh-bf' })
    await until(() => r.got.length === 2)
    const last = r.got[1]
    expect(verifySignature(hook.secret, last.body, last.headers[SIGNATURE_HEADER] as string)).toBe(true)
    const payload = JSON.parse(last.body)
    expect(payload).toMatchObject({
      event: 'decision.added',
      source: 'peer-x',
      data: { value: '203.0.113.9' },
    })
    await until(() => service.counts.delivered === 1)
    const log = await service.deliveries()
    expect(log[0]).toMatchObject({ webhookId: hook.id, ok: true, attempts: 2, status: 200 })
    await service.stop()
    r.server.close()
  })

  it('counts a delivery only once its record is in the log', async () => {
    // whoever sees the count rise (a test, the metrics, an admin polling) must find the delivery it counted
    const r = await receiver([200, 400])
    const seen: Promise<{ outcome: string; counts: string; logged: string[] }>[] = []
    const service = webhookService({ initialBackoffMs: 10 })({
      store,
      logger: silentLogger(),
      source: 'p',
      onOutcome: (outcome) => {
        const counts = `${service.counts.delivered}/${service.counts.failed}`
        seen.push(
          service
            .deliveries()
            .then((log) => ({ outcome, counts, logged: log.map((d) => `${d.ok}:${d.status}`) })),
        )
      },
    })
    await service.start()
    await service.add({ url: r.url, events: ['decision.added'] })
    service.emit('decision.added', { value: '203.0.113.1' })
    await until(() => seen.length === 1)
    service.emit('decision.added', { value: '203.0.113.2' })
    await until(() => seen.length === 2)
    expect(await Promise.all(seen)).toEqual([
      { outcome: 'delivered', counts: '1/0', logged: ['true:200'] },
      { outcome: 'failed', counts: '1/1', logged: ['false:400', 'true:200'] },
    ])
    await service.stop()
    r.server.close()
  })

  it('does not retry a 400, records the failure, and keeps webhooks across a restart', async () => {
    const r = await receiver([400])
    const make = () =>
      webhookService({ initialBackoffMs: 10 })({ store, logger: silentLogger(), source: 'p' })
    const service = make()
    await service.start()
    const hook = await service.add({ url: r.url, events: ['decision.removed'] })
    service.emit('decision.removed', { value: '198.51.100.1' })
    await until(() => service.counts.failed === 1)
    expect(r.got).toHaveLength(1)
    expect((await service.deliveries())[0]).toMatchObject({ ok: false, status: 400, attempts: 1 })
    await service.stop()
    const again = make()
    await again.start()
    expect(again.get(hook.id).url).toBe(r.url)
    await again.remove(hook.id)
    expect(() => again.get(hook.id)).toThrow(expect.objectContaining({ name: 'WebhookNotFoundError' }))
    await again.stop()
    r.server.close()
  })

  it('keeps deliveries off the caller: a bounded queue per webhook, a few requests in flight, drops counted', async () => {
    // receivers that never answer: every request stays in flight until the service stops
    const held: Array<() => void> = []
    const silent = async () => {
      const server = createServer((req, res) => {
        req.resume()
        held.push(() => res.destroy())
      })
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
      return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook` }
    }
    const a = await silent()
    const b = await silent()
    const service = webhookService({
      maxQueuePerWebhook: 100,
      maxConcurrentPerWebhook: 2,
      timeoutMs: 600_000,
    })({
      store,
      logger: silentLogger(),
      source: 'p',
    })
    await service.start()
    await service.add({ url: a.url, events: ['decision.added'] })
    await service.add({ url: b.url, events: ['decision.added'] })
    for (let i = 0; i < 150; i++) service.emit('decision.added', { value: `192.0.2.${i % 250}` })
    for (const stats of service.queueStats()) {
      expect(stats).toMatchObject({ inFlight: 2, queued: 98, dropped: 50 })
    }
    expect(service.counts.dropped).toBe(100)
    await until(() => held.length === 4)
    await service.stop()
    for (const release of held) release()
    a.server.close()
    b.server.close()
  })

  it('sums a failing webhook into one warning per interval', async () => {
    const lines: string[] = []
    const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) })
    const warnings = () => lines.map((l) => JSON.parse(l)).filter((l) => l.component === 'webhooks')
    let now = 1_000_000
    const r = await receiver([400])
    const service = webhookService({ warnIntervalMs: 60_000 })({
      store,
      logger,
      source: 'p',
      clock: () => now,
    })
    await service.start()
    const hook = await service.add({ url: r.url, events: ['decision.added'] })
    for (let i = 0; i < 20; i++) service.emit('decision.added', { i })
    await until(() => service.counts.failed === 20)
    expect(warnings()).toHaveLength(1)
    expect(warnings()[0]).toMatchObject({ webhook: hook.id, failed: 1, lastError: 'HTTP 400' })
    now += 60_001
    service.emit('decision.added', { i: 20 })
    await until(() => service.counts.failed === 21)
    expect(warnings()).toHaveLength(2)
    expect(warnings()[1]).toMatchObject({ webhook: hook.id, failed: 20 })
    await service.stop()
    r.server.close()
  })

  it('backs a failing webhook off as a whole instead of retrying each delivery on its own', async () => {
    const r = await receiver([503])
    const service = webhookService({ initialBackoffMs: 600_000, maxConcurrentPerWebhook: 2 })({
      store,
      logger: silentLogger(),
      source: 'p',
    })
    await service.start()
    await service.add({ url: r.url, events: ['decision.added'] })
    for (let i = 0; i < 10; i++) service.emit('decision.added', { i })
    await until(() => service.queueStats()[0].failuresInARow === 2)
    // both first requests failed; the other eight never went out, and all ten wait for the webhook's backoff
    expect(r.got).toHaveLength(2)
    expect(service.queueStats()[0]).toMatchObject({ queued: 10, inFlight: 0 })
    expect(service.counts.retries).toBe(2)
    await service.stop()
    r.server.close()
  })
})
