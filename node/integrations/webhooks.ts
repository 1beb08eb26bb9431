import { randomBytes } from 'node:crypto'
import { hmac } from '@noble/hashes/hmac.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import type { Logger } from '../logging/logger.ts'
import { sortableNumber, type Store } from '../store/open-store.ts'
import { tokenMatches } from '../api/api-token.ts'

/** What a webhook can subscribe to. */
export const WEBHOOK_EVENTS = [
  'decision.added',
  'decision.removed',
  'alert.received',
  'alert.published',
] as const
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number]

export interface Webhook {
  id: string
  url: string
  events: WebhookEvent[]
  /** HMAC-SHA256 key; shown once when the webhook is created */
  secret: string
  description?: string
  createdAt: number
}

export interface DeliveryRecord {
  id: string
  webhookId: string
  event: WebhookEvent
  attempts: number
  /** HTTP status of the last attempt, or 0 when it never got one */
  status: number
  ok: boolean
  error?: string
  firstAttemptAt: number
  lastAttemptAt: number
}

export interface WebhookServiceInit {
  /** attempts per delivery, the first included */
  maxAttempts: number
  /** wait before the second attempt; doubled for each further one */
  initialBackoffMs: number
  maxBackoffMs: number
  timeoutMs: number
  /** deliveries kept in the log, newest first */
  logSize: number
  /** deliveries waiting or retrying at once, all webhooks together; beyond it new ones are dropped and counted */
  maxPending: number
  /** deliveries waiting or in flight for one webhook; beyond it that webhook's new ones are dropped and counted */
  maxQueuePerWebhook: number
  /** requests in flight to one webhook at once */
  maxConcurrentPerWebhook: number
  /** a failing webhook logs one warning per interval, summing its failures and drops since the last one */
  warnIntervalMs: number
  maxWebhooks: number
}

export interface WebhookServiceComponents {
  store: Store
  logger: Logger
  clock?: () => number
  /** node-wide identification in the payload, e.g. the peer id */
  source: string
  /** told the final outcome of every delivery (metrics) */
  onOutcome?: (outcome: 'delivered' | 'failed' | 'dropped') => void
}

const DEFAULTS: WebhookServiceInit = {
  maxAttempts: 5,
  initialBackoffMs: 1000,
  maxBackoffMs: 60_000,
  timeoutMs: 5000,
  logSize: 1000,
  maxPending: 10_000,
  maxQueuePerWebhook: 1000,
  maxConcurrentPerWebhook: 2,
  warnIntervalMs: 60_000,
  maxWebhooks: 100,
}

interface DeliveryJob {
  id: string
  event: WebhookEvent
  body: string
  attempt: number
  firstAttemptAt: number
}

/** One webhook's queue and health: a failing receiver backs off as a whole, not delivery by delivery. */
interface HookQueue {
  jobs: DeliveryJob[]
  /** index of the next job in `jobs` (a moving head, so taking one is O(1)) */
  head: number
  inFlight: number
  /** retryable failures in a row; the webhook waits backoffMs(failures + 1) before its next request */
  failures: number
  retryAt: number
  timer?: NodeJS.Timeout
  /** the webhook was removed or the service stopped: nothing more is started from this queue */
  closed: boolean
  /** what the next warning sums up */
  failedSinceWarn: number
  droppedSinceWarn: number
  lastError?: string
  lastWarnAt: number
}

/** What is queued and in flight per webhook: GET /api/webhooks can show it, tests check the bounds with it. */
export interface WebhookQueueStats {
  webhookId: string
  queued: number
  inFlight: number
  failuresInARow: number
  dropped: number
}

export const SIGNATURE_HEADER = 'x-shieldwall-signature'

export class WebhookNotFoundError extends Error {
  override name = 'WebhookNotFoundError'
}
export class TooManyWebhooksError extends Error {
  override name = 'TooManyWebhooksError'
}

/** `sha256=<hex>` of HMAC-SHA256(secret, body): what receivers recompute over the raw body they got. */
export function signBody(secret: string, body: string | Uint8Array): string {
  const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body
  return 'sha256=' + bytesToHex(hmac(sha256, new TextEncoder().encode(secret), bytes))
}

/** Constant-time check of a received signature header, for receivers (and our tests). */
export function verifySignature(secret: string, body: string | Uint8Array, header: string | null): boolean {
  return header !== null && tokenMatches(header, signBody(secret, body))
}

/** Delay before attempt `n` (1-based; attempt 1 is immediate), doubling up to a cap. */
export function backoffMs(
  attempt: number,
  init: Pick<WebhookServiceInit, 'initialBackoffMs' | 'maxBackoffMs'>,
) {
  if (attempt <= 1) return 0
  return Math.min(init.maxBackoffMs, init.initialBackoffMs * 2 ** (attempt - 2))
}

/**
 * Webhooks for SIEMs and chat: each event is POSTed as JSON to every webhook subscribed to it, signed with
 * HMAC-SHA256 over the exact body, retried with exponential backoff on network errors and 5xx/429, and
 * recorded in a bounded delivery log. Deliveries never block the caller: each webhook has a bounded queue and
 * at most a few requests in flight, a failing one backs off as a whole, and its failures are summed into one
 * warning per interval.
 */
export class WebhookService {
  readonly #init: WebhookServiceInit
  readonly #c: WebhookServiceComponents
  readonly #clock: () => number
  readonly #log: Logger
  readonly #hooks = new Map<string, Webhook>()
  readonly #db
  readonly #deliveries
  readonly #timers = new Set<NodeJS.Timeout>()
  readonly #inFlight = new Set<AbortController>()
  #pending = 0
  #stopped = false
  readonly counts = { delivered: 0, failed: 0, dropped: 0, retries: 0 }

  constructor(init: WebhookServiceInit, components: WebhookServiceComponents) {
    this.#init = init
    this.#c = components
    this.#clock = components.clock ?? Date.now
    this.#log = components.logger.child({ component: 'webhooks' })
    this.#db = components.store.sublevel<string, string>('webhooks', { valueEncoding: 'utf8' })
    this.#deliveries = components.store.sublevel<string, string>('webhook-deliveries', {
      valueEncoding: 'utf8',
    })
  }

  async start(): Promise<void> {
    this.#stopped = false
    for await (const [id, value] of this.#db.iterator()) this.#hooks.set(id, JSON.parse(value) as Webhook)
  }

  async stop(): Promise<void> {
    this.#stopped = true
    for (const t of this.#timers) clearTimeout(t)
    this.#timers.clear()
    for (const controller of this.#inFlight) controller.abort()
    // queued deliveries live in memory only: a stopped service forgets them
    for (const q of this.#queues.values()) q.closed = true
    this.#queues.clear()
    this.#pending = 0
  }

  list(): Webhook[] {
    return [...this.#hooks.values()].sort((a, b) => a.createdAt - b.createdAt)
  }

  get(id: string): Webhook {
    const hook = this.#hooks.get(id)
    if (hook === undefined) throw new WebhookNotFoundError(`no webhook ${id}`)
    return hook
  }

  async add(input: {
    url: string
    events: WebhookEvent[]
    description?: string
    secret?: string
  }): Promise<Webhook> {
    if (this.#hooks.size >= this.#init.maxWebhooks)
      throw new TooManyWebhooksError(`at most ${this.#init.maxWebhooks} webhooks`)
    const hook: Webhook = {
      id: randomBytes(8).toString('hex'),
      url: input.url,
      events: [...new Set(input.events)],
      secret: input.secret ?? randomBytes(32).toString('base64url'),
      createdAt: this.#clock(),
      ...(input.description !== undefined ? { description: input.description } : {}),
    }
    await this.#db.put(hook.id, JSON.stringify(hook))
    this.#hooks.set(hook.id, hook)
    return hook
  }

  async remove(id: string): Promise<void> {
    this.get(id)
    await this.#db.del(id)
    this.#hooks.delete(id)
    const q = this.#queues.get(id)
    if (q !== undefined) {
      // what was waiting for it is finished as dropped; what is in flight finishes on its own
      q.closed = true
      if (q.timer !== undefined) clearTimeout(q.timer)
      this.#pending -= queued(q)
      this.counts.dropped += queued(q)
      for (let i = queued(q); i > 0; i--) this.#c.onOutcome?.('dropped')
      this.#queues.delete(id)
    }
    this.#droppedByHook.delete(id)
  }

  /** Newest first. */
  async deliveries(options: { webhookId?: string; limit?: number } = {}): Promise<DeliveryRecord[]> {
    const limit = Math.min(options.limit ?? 100, this.#init.logSize)
    const out: DeliveryRecord[] = []
    for await (const value of this.#deliveries.values({ reverse: true })) {
      const record = JSON.parse(value) as DeliveryRecord
      if (options.webhookId !== undefined && record.webhookId !== options.webhookId) continue
      out.push(record)
      if (out.length >= limit) break
    }
    return out
  }

  /**
   * Queues `data` for every webhook subscribed to `event`; returns at once. Nothing here waits on a receiver:
   * a slow or dead webhook fills its own bounded queue, then its new deliveries are dropped and counted.
   */
  emit(event: WebhookEvent, data: unknown): void {
    if (this.#stopped) return
    let body: string | undefined
    let id = ''
    let now = 0
    for (const hook of this.#hooks.values()) {
      if (!hook.events.includes(event)) continue
      const q = this.#queueOf(hook.id)
      if (this.#pending >= this.#init.maxPending || queued(q) + q.inFlight >= this.#init.maxQueuePerWebhook) {
        this.counts.dropped++
        q.droppedSinceWarn++
        this.#droppedByHook.set(hook.id, (this.#droppedByHook.get(hook.id) ?? 0) + 1)
        this.#c.onOutcome?.('dropped')
        this.#maybeWarn(hook, q)
        continue
      }
      if (body === undefined) {
        // one body for every webhook of this event: the signature differs per webhook, the bytes do not
        now = this.#clock()
        id = randomBytes(8).toString('hex')
        body = JSON.stringify({
          id,
          event,
          source: this.#c.source,
          sentAt: new Date(now).toISOString(),
          data,
        })
      }
      this.#pending++
      q.jobs.push({ id, event, body, attempt: 1, firstAttemptAt: now })
      this.#pump(hook, q)
    }
  }

  /** Queued and in-flight deliveries per webhook. */
  queueStats(): WebhookQueueStats[] {
    return [...this.#hooks.keys()].map((webhookId) => {
      const q = this.#queues.get(webhookId)
      return {
        webhookId,
        queued: q === undefined ? 0 : queued(q),
        inFlight: q?.inFlight ?? 0,
        failuresInARow: q?.failures ?? 0,
        dropped: this.#droppedByHook.get(webhookId) ?? 0,
      }
    })
  }

  readonly #queues = new Map<string, HookQueue>()
  readonly #droppedByHook = new Map<string, number>()

  #queueOf(webhookId: string): HookQueue {
    let q = this.#queues.get(webhookId)
    if (q === undefined) {
      q = {
        jobs: [],
        head: 0,
        inFlight: 0,
        failures: 0,
        retryAt: 0,
        closed: false,
        failedSinceWarn: 0,
        droppedSinceWarn: 0,
        lastWarnAt: -Infinity,
      }
      this.#queues.set(webhookId, q)
    }
    return q
  }

  /** Starts as many of the webhook's queued deliveries as its concurrency and backoff allow. */
  #pump(hook: Webhook, q: HookQueue = this.#queueOf(hook.id)): void {
    if (this.#stopped || q.closed || q.timer !== undefined) return
    const wait = q.retryAt - this.#clock()
    if (wait > 0 && queued(q) > 0) {
      const t = setTimeout(() => {
        this.#timers.delete(t)
        q.timer = undefined
        this.#pump(hook, q)
      }, wait)
      t.unref()
      this.#timers.add(t)
      q.timer = t
      return
    }
    // a failing webhook is probed one request at a time until it answers again
    const limit = q.failures > 0 ? 1 : this.#init.maxConcurrentPerWebhook
    while (q.inFlight < limit && queued(q) > 0) {
      const job = q.jobs[q.head++]
      if (q.head > 1024 && q.head * 2 > q.jobs.length) {
        q.jobs = q.jobs.slice(q.head)
        q.head = 0
      }
      q.inFlight++
      void this.#attempt(hook, q, job)
    }
  }

  async #attempt(hook: Webhook, q: HookQueue, job: DeliveryJob): Promise<void> {
    let status = 0
    let error: string | undefined
    const controller = new AbortController()
    const timer = setTimeout(() => controller.abort(), this.#init.timeoutMs)
    this.#inFlight.add(controller)
    try {
      const res = await fetch(hook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'shieldwall-webhook/1',
          [SIGNATURE_HEADER]: signBody(hook.secret, job.body),
          'x-shieldwall-event': job.event,
          'x-shieldwall-delivery': job.id,
        },
        body: job.body,
        signal: controller.signal,
        redirect: 'manual',
      })
      status = res.status
      await res.body?.cancel()
      if (!res.ok) error = `HTTP ${res.status}`
    } catch (err) {
      error =
        (err as Error).name === 'AbortError'
          ? `no answer within ${this.#init.timeoutMs} ms`
          : (err as Error).message
    } finally {
      clearTimeout(timer)
      this.#inFlight.delete(controller)
    }
    q.inFlight--
    if (q.closed) {
      // the webhook was removed (its delivery is over) or the service stopped (which forgot every delivery)
      if (!this.#stopped) this.#pending--
      return
    }
    // 4xx other than 408/429 is the receiver refusing this payload: retrying would not change its mind.
    const retryable =
      error !== undefined && (status === 0 || status >= 500 || status === 408 || status === 429)
    if (retryable) {
      // the receiver is down or overloaded: the whole webhook backs off, not just this delivery
      q.failures++
      q.retryAt = this.#clock() + backoffMs(q.failures + 1, this.#init)
    } else {
      q.failures = 0
      q.retryAt = 0
    }
    if (retryable && job.attempt < this.#init.maxAttempts && !this.#stopped && this.#hooks.has(hook.id)) {
      this.counts.retries++
      // back at the head, so the webhook's events still arrive in order
      if (q.head > 0) q.jobs[--q.head] = { ...job, attempt: job.attempt + 1 }
      else q.jobs.unshift({ ...job, attempt: job.attempt + 1 })
      this.#pump(hook, q)
      return
    }
    this.#pending--
    const ok = error === undefined
    if (!ok) {
      q.failedSinceWarn++
      q.lastError = error
      this.#maybeWarn(hook, q)
    }
    this.#pump(hook, q)
    await this.#record({
      id: job.id,
      webhookId: hook.id,
      event: job.event,
      attempts: job.attempt,
      status,
      ok,
      firstAttemptAt: job.firstAttemptAt,
      lastAttemptAt: this.#clock(),
      ...(error !== undefined ? { error } : {}),
    })
    // counted once recorded: whoever sees a count rise finds the delivery it counts in the log
    if (ok) this.counts.delivered++
    else this.counts.failed++
    this.#c.onOutcome?.(ok ? 'delivered' : 'failed')
  }

  /** One warning per webhook per interval, with what failed and was dropped since the last one. */
  #maybeWarn(hook: Webhook, q: HookQueue): void {
    const now = this.#clock()
    if (now - q.lastWarnAt < this.#init.warnIntervalMs) return
    this.#log.warn(
      {
        webhook: hook.id,
        url: hook.url,
        failed: q.failedSinceWarn,
        dropped: q.droppedSinceWarn,
        queued: queued(q),
        failuresInARow: q.failures,
        ...(q.lastError !== undefined ? { lastError: q.lastError } : {}),
      },
      `webhook deliveries failing (counts since the last warning; next summary in ${Math.round(this.#init.warnIntervalMs / 1000)} s at most)`,
    )
    q.lastWarnAt = now
    q.failedSinceWarn = 0
    q.droppedSinceWarn = 0
  }

  #seq = 0
  async #record(record: DeliveryRecord): Promise<void> {
    if (this.#stopped) return
    try {
      const key = sortableNumber(record.lastAttemptAt) + '!' + sortableNumber(this.#seq++)
      await this.#deliveries.put(key, JSON.stringify(record))
      // Keep the log bounded: drop the oldest beyond logSize, a few at a time.
      if (this.#seq % 64 === 0) {
        const stale: string[] = []
        let n = 0
        for await (const k of this.#deliveries.keys({ reverse: true })) {
          if (++n > this.#init.logSize) stale.push(k)
        }
        if (stale.length > 0)
          await this.#deliveries.batch(stale.map((k) => ({ type: 'del' as const, key: k })))
      }
    } catch (err) {
      this.#log.error({ err }, 'could not record a webhook delivery')
    }
  }
}

function queued(q: HookQueue): number {
  return q.jobs.length - q.head
}

export function webhookService(
  init: Partial<WebhookServiceInit> = {},
): (components: WebhookServiceComponents) => WebhookService {
  const merged: WebhookServiceInit = { ...DEFAULTS }
  for (const [k, v] of Object.entries(init))
    if (v !== undefined) (merged as unknown as Record<string, unknown>)[k] = v
  return (components) => new WebhookService(merged, components)
}
