import type { GossipSub, Message } from '@libp2p/gossipsub'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import type { PeerId } from '@libp2p/interface'
import { encodeEnvelope, sealEnvelope, type Envelope } from '../../protocol/envelope/envelope.ts'
import { ALERT_TYPE, ALERT_VERSION, AlertBodyV1, type AlertBody } from '../../protocol/messages/alert.ts'
import { TOPIC_MESSAGES } from '../../protocol/messages/registry.ts'
import { TOPICS } from '../../protocol/topics.ts'
import {
  checkFreshness,
  validateEnvelope,
  type Validation,
  type ValidationReason,
} from '../../protocol/validation/validate-envelope.ts'
import type { Logger } from '../logging/logger.ts'
import type { SequenceCounter } from '../store/sequence-counter.ts'
import { AlertStore, type AlertOrigin, type StoredAlert } from './alert-store.ts'
import { SenderRateLimiter } from './sender-rate-limiter.ts'
import { stripUndefined } from '../service-init.ts'

export interface AlertServiceInit {
  defaultTtlSeconds: number
  maxTtlSeconds: number
  maxClockSkewSeconds: number
  maxPerSenderPerMinute: number
  maxMessageBytes: number
  /** how long an expired alert is kept for history before it is pruned */
  retentionSeconds: number
}

export interface AlertServiceComponents {
  pubsub: GossipSub
  alerts: AlertStore
  sequence: SequenceCounter
  secretKey: Uint8Array
  publicKey: Uint8Array
  logger: Logger
  clock?: () => number
}

export interface AlertCounts {
  published: number
  accepted: number
  rejected: Partial<Record<ValidationReason, number>>
  ignored: Partial<Record<ValidationReason, number>>
}

export class AlertPublishError extends Error {
  override name = 'AlertPublishError'
}

const DEFAULTS: AlertServiceInit = {
  defaultTtlSeconds: 86_400,
  maxTtlSeconds: 30 * 86_400,
  maxClockSkewSeconds: 30,
  maxPerSenderPerMinute: 120,
  maxMessageBytes: 16_384,
  retentionSeconds: 7 * 86_400,
}

export type AlertInput = Pick<AlertBody, 'indicator' | 'scenario'> &
  Partial<Omit<AlertBody, 'indicator' | 'scenario'>> & { ttlSeconds?: number }

type Listener = (alert: StoredAlert) => void

/**
 * Publishes this node's alerts and takes in everyone else's: each message is judged by the shared validator
 * (as the gossipsub topic validator, so a reject costs the forwarding peer score), then stored once.
 */
export class AlertService {
  readonly #init: AlertServiceInit
  readonly #c: AlertServiceComponents
  readonly #clock: () => number
  readonly #limiter: SenderRateLimiter
  /** (sender, seq) accepted but maybe not yet on disk, so two copies arriving together are not both stored */
  readonly #inFlight = new Set<string>()
  readonly #listeners = new Set<Listener>()
  readonly #log: Logger
  #pruneTimer?: NodeJS.Timeout
  readonly counts: AlertCounts = { published: 0, accepted: 0, rejected: {}, ignored: {} }

  constructor(init: AlertServiceInit, components: AlertServiceComponents) {
    this.#init = init
    this.#c = components
    this.#clock = components.clock ?? Date.now
    this.#limiter = new SenderRateLimiter(init.maxPerSenderPerMinute)
    this.#log = components.logger.child({ component: 'alerts' })
  }

  start(): void {
    const { pubsub } = this.#c
    pubsub.topicValidators.set(TOPICS.alerts, (peer, msg) => this.#validateGossip(peer, msg))
    pubsub.subscribe(TOPICS.alerts)
    this.#pruneTimer = setInterval(() => void this.#prune(), 10 * 60_000).unref()
  }

  stop(): void {
    clearInterval(this.#pruneTimer)
    this.#c.pubsub.topicValidators.delete(TOPICS.alerts)
    try {
      this.#c.pubsub.unsubscribe(TOPICS.alerts)
    } catch {
      // pubsub may already be stopping with libp2p
    }
  }

  onAlert(listener: Listener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** Signs, stores and gossips an alert from this node. */
  async publish(input: AlertInput): Promise<StoredAlert> {
    const now = this.#clock()
    const ttl = Math.min(input.ttlSeconds ?? this.#init.defaultTtlSeconds, this.#init.maxTtlSeconds)
    const body = AlertBodyV1.parse({
      indicator: input.indicator,
      scenario: input.scenario,
      severity: input.severity ?? 'medium',
      confidence: input.confidence ?? 1,
      events: input.events ?? 1,
      windowSeconds: input.windowSeconds ?? 0,
      firstSeen: input.firstSeen ?? now,
      lastSeen: input.lastSeen ?? now,
    })
    const envelope = sealEnvelope<AlertBody>(
      {
        type: ALERT_TYPE,
        version: ALERT_VERSION,
        sender: this.#c.publicKey,
        seq: await this.#c.sequence.next(now),
        createdAt: now,
        expiresAt: now + ttl * 1000,
        body,
      },
      this.#c.secretKey,
    )
    const bytes = encodeEnvelope(envelope)
    if (bytes.length > this.#init.maxMessageBytes) {
      throw new AlertPublishError(
        `alert is ${bytes.length} bytes, over the ${this.#init.maxMessageBytes} byte cap`,
      )
    }
    // Stored before it is sent: the alert is ours whether or not any peer is listening right now.
    const stored = await this.#c.alerts.put(envelope, bytes, 'local', now)
    this.counts.published++
    this.#limiter.record(stored.sender, now)
    try {
      await this.#c.pubsub.publish(TOPICS.alerts, bytes)
    } catch (err) {
      this.#log.warn({ err, id: stored.id }, 'alert stored but not gossiped')
    }
    this.#emit(stored)
    return stored
  }

  /**
   * Judges wire bytes from any path (gossip, catch-up, API import), stores what is accepted, and counts
   * every outcome by reason.
   */
  async intake(
    bytes: Uint8Array,
    origin: AlertOrigin,
    opts: { awaitStore?: boolean } = {},
  ): Promise<Validation<AlertBody>> {
    const now = this.#clock()
    const limits = {
      maxBytes: this.#init.maxMessageBytes,
      maxClockSkewMs: this.#init.maxClockSkewSeconds * 1000,
      maxTtlMs: this.#init.maxTtlSeconds * 1000,
    }
    let verdict = validateEnvelope<AlertBody>(bytes, TOPIC_MESSAGES[TOPICS.alerts], now, limits)
    if (verdict.action === 'accept') {
      const envelope: Envelope<AlertBody> = verdict.envelope
      const sender = Buffer.from(envelope.sender).toString('hex')
      const key = `${sender}:${envelope.seq}`
      const seen = this.#inFlight.has(key) || (await this.#c.alerts.has(sender, envelope.seq))
      // The live rate limit guards the mesh against floods; a catch-up page is a backlog we asked for, bounded
      // by the sync protocol's own page and request limits, so it is not held to the per-minute rate.
      const live = origin !== 'sync'
      verdict = checkFreshness(
        envelope,
        { seen, recentFromSender: live ? this.#limiter.recent(sender, now) : 0 },
        { maxPerSenderPerMinute: this.#init.maxPerSenderPerMinute },
      )
      if (verdict.action === 'accept') {
        this.#inFlight.add(key)
        if (live) this.#limiter.record(sender, now)
        const stored = this.#store(envelope, bytes, origin, now, key)
        if (opts.awaitStore === false) {
          // The verdict is final before the write: the message is valid whether or not our disk keeps it.
          stored.catch((err: unknown) => this.#log.error({ err, id: key }, 'accepted alert not stored'))
        } else await stored
        return verdict
      }
    }
    const bucket = verdict.action === 'reject' ? this.counts.rejected : this.counts.ignored
    bucket[verdict.reason] = (bucket[verdict.reason] ?? 0) + 1
    this.#log.debug({ origin, reason: verdict.reason, detail: verdict.detail }, `alert ${verdict.action}ed`)
    return verdict
  }

  async #store(
    envelope: Envelope<AlertBody>,
    bytes: Uint8Array,
    origin: AlertOrigin,
    now: number,
    key: string,
  ): Promise<void> {
    try {
      const stored = await this.#c.alerts.put(envelope, bytes, origin, now)
      this.counts.accepted++
      this.#emit(stored)
    } finally {
      this.#inFlight.delete(key)
    }
  }

  async #validateGossip(peer: PeerId, msg: Message): Promise<TopicValidatorResult> {
    try {
      // Gossipsub forwards a message only once its validator answers; every hop waiting on a disk write would
      // add that write to the alert's time to reach the far side of the network.
      const verdict = await this.intake(msg.data, 'gossip', { awaitStore: false })
      if (verdict.action === 'accept') return TopicValidatorResult.Accept
      if (verdict.action === 'reject') {
        this.#log.info({ peer: peer.toString(), reason: verdict.reason }, 'rejected alert from peer')
        return TopicValidatorResult.Reject
      }
      return TopicValidatorResult.Ignore
    } catch (err) {
      // A storage failure is ours, not the peer's: do not forward, do not penalise.
      this.#log.error({ err }, 'alert intake failed')
      return TopicValidatorResult.Ignore
    }
  }

  #emit(alert: StoredAlert): void {
    for (const listener of this.#listeners) {
      try {
        listener(alert)
      } catch (err) {
        this.#log.error({ err }, 'alert listener failed')
      }
    }
  }

  async #prune(): Promise<void> {
    const now = this.#clock()
    this.#limiter.prune(now)
    try {
      const n = await this.#c.alerts.prune(now, this.#init.retentionSeconds * 1000)
      if (n > 0) this.#log.info({ pruned: n }, 'pruned expired alerts')
    } catch (err) {
      this.#log.error({ err }, 'alert pruning failed')
    }
  }
}

export function alertService(
  init: Partial<AlertServiceInit> = {},
): (components: AlertServiceComponents) => AlertService {
  const merged: AlertServiceInit = { ...DEFAULTS, ...stripUndefined(init) }
  return (components) => new AlertService(merged, components)
}
