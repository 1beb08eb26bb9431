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
  /** deliveries waiting or retrying at once; beyond it new ones are dropped and counted */
  maxPending: number
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
  maxWebhooks: 100,
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
 * recorded in a bounded delivery log. Deliveries never block the caller.
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

  /** Queues `data` for every webhook subscribed to `event`; returns at once. */
  emit(event: WebhookEvent, data: unknown): void {
    if (this.#stopped) return
    for (const hook of this.#hooks.values()) {
      if (!hook.events.includes(event)) continue
      if (this.#pending >= this.#init.maxPending) {
        this.counts.dropped++
        this.#c.onOutcome?.('dropped')
        continue
      }
      const now = this.#clock()
      const id = randomBytes(8).toString('hex')
      const body = JSON.stringify({
        id,
        event,
        source: this.#c.source,
        sentAt: new Date(now).toISOString(),
        data,
      })
      this.#pending++
      void this.#attempt(hook, { id, event, body, attempt: 1, firstAttemptAt: now })
    }
  }

  async #attempt(
    hook: Webhook,
    job: { id: string; event: WebhookEvent; body: string; attempt: number; firstAttemptAt: number },
  ): Promise<void> {
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
    // 4xx other than 408/429 is the receiver refusing this payload: retrying would not change its mind.
    const retryable =
      error !== undefined && (status === 0 || status >= 500 || status === 408 || status === 429)
    if (retryable && job.attempt < this.#init.maxAttempts && !this.#stopped && this.#hooks.has(hook.id)) {
      this.counts.retries++
      const delay = backoffMs(job.attempt + 1, this.#init)
      const t = setTimeout(() => {
        this.#timers.delete(t)
        void this.#attempt(hook, { ...job, attempt: job.attempt + 1 })
      }, delay)
      t.unref()
      this.#timers.add(t)
      return
    }
    this.#pending--
    const ok = error === undefined
    this.#c.onOutcome?.(ok ? 'delivered' : 'failed')
    if (ok) this.counts.delivered++
    else {
      this.counts.failed++
      this.#log.warn(
        { webhook: hook.id, url: hook.url, error, attempts: job.attempt },
        'webhook delivery failed',
      )
    }
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

export function webhookService(
  init: Partial<WebhookServiceInit> = {},
): (components: WebhookServiceComponents) => WebhookService {
  const merged: WebhookServiceInit = { ...DEFAULTS }
  for (const [k, v] of Object.entries(init))
    if (v !== undefined) (merged as unknown as Record<string, unknown>)[k] = v
  return (components) => new WebhookService(merged, components)
}
