import type { GossipSub, Message } from '@libp2p/gossipsub'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import type { PeerId } from '@libp2p/interface'
import { encodeEnvelope, sealEnvelope, type Envelope } from '../../protocol/envelope/envelope.ts'
import { ALERT_TYPE, ALERT_VERSION, AlertBodyV1, type AlertBody } from '../../protocol/messages/alert.ts'
import { TOPIC_MESSAGES } from '../../protocol/messages/registry.ts'
import { TOPICS } from '../../protocol/topics.ts'
import {
  checkBody,
  checkHeader,
  checkSignature,
  isUnverified,
  refuse,
  type Unverified,
  type Validation,
  type ValidationReason,
} from '../../protocol/validation/validate-envelope.ts'
import { peerIdFromEd25519PublicKey } from '../../crypto/identity/peer-id.ts'
import type { Logger } from '../logging/logger.ts'
import { FloodHangUp } from '../p2p/flood-hang-up.ts'
import {
  allowanceFor,
  JUDGE_ALLOWANCE_TRUSTED,
  JUDGE_ALLOWANCE_UNKNOWN,
  PeerBudget,
  SYNC_ALLOWANCE_TRUSTED,
  SYNC_ALLOWANCE_UNKNOWN,
  trustBudget,
  VERIFY_ALLOWANCE_TRUSTED,
  VERIFY_ALLOWANCE_UNKNOWN,
  type PeerUsage,
} from '../p2p/peer-budget.ts'
import { nonRoutable } from '../blocklist/allowlist.ts'
import { CpuSlices, SlicesFullError } from './cpu-slices.ts'
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
  /**
   * This node's trust in a peer id, in [0, 1] (the reputation book's `trust`): it scales what a forwarding peer
   * may make us judge and verify, and what a sender may have stored from catch-up. Without it every peer is a
   * stranger.
   */
  trustOf?: (peerId: string) => number
  /**
   * Peers trusted less than this (blocklist.trustedThreshold) together draw on one shared pool for judging and
   * verifying, besides their own budgets: fresh identities are free, so theirs must not add up (issue 15).
   */
  trustedThreshold?: number
  /**
   * Closes our connections to a peer (libp2p's `hangUp`). Called on a peer that floods: gossipsub stops judging
   * a graylisted peer's messages but still reads and decodes every RPC it sends, which a connection closed
   * spares us. Its score outlives the connection, so it comes back graylisted.
   */
  hangUp?: (peer: PeerId) => Promise<void>
}

export interface AlertCounts {
  published: number
  /** our own alerts stored but not gossiped: over the per-sender rate every peer holds us to */
  held: number
  accepted: number
  /** signature verifications done on received alerts, whatever their outcome */
  verified: number
  /**
   * Messages dropped (`over_budget`, ignored) only because the pool shared by all untrusted peers was spent:
   * before judging, and before verifying.
   */
  pooled: { judged: number; verified: number }
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
 * A forwarding peer that hands us more than this many times the per-sender rate of one sender within a minute
 * is flooding: an honest relay forwards only what it accepted, which its own limiter held to the rate (the
 * margin covers windows that do not line up and a relay that restarted and forgot its window).
 */
export const FLOOD_SENDER_MARGIN = 4
/** What trust a peer has when no reputation is wired (tests, tools): a stranger's. */
const NO_TRUST = () => 0

/** Where an alert came from, as intake sees it. */
export interface IntakeOptions {
  /** wait for the write before answering (default true); gossip answers first so a hop never waits on disk */
  awaitStore?: boolean
  /** the peer that handed us the message (gossipsub's propagation source), charged for judging it */
  peer?: string
}

/** A forwarding peer's use of its budgets so far. */
export interface AlertPeerUsage {
  judged: PeerUsage
  verified: PeerUsage
}

/**
 * Publishes this node's alerts and takes in everyone else's: each message is judged by the shared validator
 * (as the gossipsub topic validator, so a reject costs the forwarding peer score), then stored once.
 */
export class AlertService {
  readonly #init: AlertServiceInit
  readonly #c: AlertServiceComponents
  readonly #clock: () => number
  readonly #limiter: SenderRateLimiter
  /** per forwarding peer: messages judged at all (charged before decoding) */
  readonly #judgeBudget: PeerBudget
  /** per forwarding peer: signature verifications (charged just before verifying) */
  readonly #verifyBudget: PeerBudget
  /** per sender: alerts stored from catch-up (charged only once the signature verified) */
  readonly #syncBudget: PeerBudget
  /** per (forwarding peer, sender): deliveries in the last minute, to tell a flood from an honest relay */
  readonly #relayed: SenderRateLimiter
  readonly #slices = new CpuSlices()
  #judging = 0
  readonly #floodHangUp: FloodHangUp
  /** (sender, seq) accepted but maybe not yet on disk, so two copies arriving together are not both stored */
  readonly #inFlight = new Set<string>()
  readonly #listeners = new Set<Listener>()
  readonly #log: Logger
  #pruneTimer?: NodeJS.Timeout
  readonly counts: AlertCounts = {
    published: 0,
    held: 0,
    accepted: 0,
    verified: 0,
    pooled: { judged: 0, verified: 0 },
    rejected: {},
    ignored: {},
  }

  constructor(init: AlertServiceInit, components: AlertServiceComponents) {
    this.#init = init
    this.#c = components
    this.#clock = components.clock ?? Date.now
    this.#limiter = new SenderRateLimiter(init.maxPerSenderPerMinute)
    this.#relayed = new SenderRateLimiter(FLOOD_SENDER_MARGIN * init.maxPerSenderPerMinute)
    const trustOf = components.trustOf ?? NO_TRUST
    const threshold = components.trustedThreshold
    this.#judgeBudget = trustBudget(JUDGE_ALLOWANCE_UNKNOWN, JUDGE_ALLOWANCE_TRUSTED, trustOf, threshold)
    this.#verifyBudget = trustBudget(VERIFY_ALLOWANCE_UNKNOWN, VERIFY_ALLOWANCE_TRUSTED, trustOf, threshold)
    this.#syncBudget = new PeerBudget((peer) =>
      allowanceFor(trustOf(peer), SYNC_ALLOWANCE_UNKNOWN, SYNC_ALLOWANCE_TRUSTED),
    )
    this.#log = components.logger.child({ component: 'alerts' })
    this.#floodHangUp = new FloodHangUp(components.pubsub, components.hangUp, this.#log, this.#clock)
  }

  start(): void {
    const { pubsub } = this.#c
    pubsub.topicValidators.set(TOPICS.alerts, (peer, msg) => this.#validateGossip(peer, msg))
    pubsub.subscribe(TOPICS.alerts)
    this.#pruneTimer = setInterval(() => void this.#prune(), 10 * 60_000).unref()
  }

  stop(): void {
    this.#floodHangUp.stop()
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
    // Every peer holds us to the per-sender rate, and one that relays far past it is taken for a flooder: past
    // it our alert stays here (served by catch-up) instead of costing the relays that would carry it.
    if (this.#limiter.recent(stored.sender, now) >= this.#init.maxPerSenderPerMinute) {
      this.counts.held++
      this.#log.warn({ id: stored.id }, 'alert stored but not gossiped: over the per-sender rate')
      this.#emit(stored)
      return stored
    }
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
   * every outcome by reason. Cheapest first, the signature last: the forwarding peer's message budget, size,
   * decoding, schema and time window, replay, the per-sender rate (per-sender catch-up allowance for `sync`),
   * the forwarding peer's verification budget, then the signature. Nothing a message does before its
   * signature verifies is charged to the sender it names, so a forgery never spends an honest sender's rate.
   */
  async intake(
    bytes: Uint8Array,
    origin: AlertOrigin,
    opts: IntakeOptions = {},
  ): Promise<Validation<AlertBody>> {
    const now = this.#clock()
    this.#judging++
    let verdict: Validation<AlertBody>
    try {
      verdict = await this.#judge(bytes, origin, opts.peer, now)
    } finally {
      this.#judging--
    }
    if (verdict.action === 'accept') {
      const { envelope } = verdict
      const key = `${Buffer.from(envelope.sender).toString('hex')}:${envelope.seq}`
      const stored = this.#store(envelope, bytes, origin, now, key)
      if (opts.awaitStore === false) {
        // The verdict is final before the write: the message is valid whether or not our disk keeps it.
        stored.catch((err: unknown) => this.#log.error({ err, id: key }, 'accepted alert not stored'))
      } else await stored
      return verdict
    }
    const bucket = verdict.action === 'reject' ? this.counts.rejected : this.counts.ignored
    bucket[verdict.reason] = (bucket[verdict.reason] ?? 0) + 1
    this.#log.debug({ origin, reason: verdict.reason, detail: verdict.detail }, `alert ${verdict.action}ed`)
    return verdict
  }

  /** Messages taken in and not yet judged (waiting for a slice or the replay lookup). */
  get judging(): number {
    return this.#judging
  }

  /** What a forwarding peer has used of its budgets (verified.spent: signatures checked for it). */
  peerUsage(peer: string): AlertPeerUsage {
    return { judged: this.#judgeBudget.usage(peer), verified: this.#verifyBudget.usage(peer) }
  }

  async #judge(
    bytes: Uint8Array,
    origin: AlertOrigin,
    peer: string | undefined,
    now: number,
  ): Promise<Validation<AlertBody>> {
    // Everything runs in slices, a turn of the event loop apart: a gossipsub RPC can carry thousands of
    // messages, and judging them in one go, even refusing them cheaply, would hold up every other request.
    const live = origin !== 'sync'
    const early = await this.#inSlices(() => this.#check(bytes, peer, live, now))
    if (!('sender' in early)) return early
    const { checked, sender, catchUp } = early
    const { envelope } = checked
    if (await this.#c.alerts.has(sender, envelope.seq)) {
      return refuse('replayed', `seq ${envelope.seq} already seen from this sender`)
    }
    // the state may have moved while we waited: #verify looks at it again
    return this.#inSlices(() => this.#verify(checked, sender, catchUp, peer, this.#clock()))
  }

  async #inSlices<T>(work: () => T): Promise<T | Validation<never>> {
    try {
      return await this.#slices.run(work)
    } catch (err) {
      if (err instanceof SlicesFullError) return refuse('over_budget', err.message)
      throw err
    }
  }

  /**
   * The forwarding peer's judging budget (before decoding), the pure checks short of the signature, then what
   * memory says of replay and rates. Hands on the sender's hex, and for a catch-up message its peer id (what
   * the sync budget is keyed by), each worked out once here for every later step.
   */
  #check(
    bytes: Uint8Array,
    peer: string | undefined,
    live: boolean,
    now: number,
  ): { checked: Unverified<AlertBody>; sender: string; catchUp: string | undefined } | Validation<never> {
    if (peer !== undefined) {
      const judged = this.#judgeBudget.take(peer, now)
      if (judged === 'flood') return refuse('flood', 'far more messages than this peer is allowed')
      if (judged === 'over') return refuse('over_budget', 'more messages than this peer is allowed now')
      if (judged === 'pool') {
        // the crowd of untrusted peers spent the pool, not this peer alone: dropped, not held against it
        this.counts.pooled.judged++
        return refuse('over_budget', 'untrusted peers together have sent all they are allowed for now')
      }
    }
    const limits = {
      maxBytes: this.#init.maxMessageBytes,
      maxClockSkewMs: this.#init.maxClockSkewSeconds * 1000,
      maxTtlMs: this.#init.maxTtlSeconds * 1000,
    }
    const header = checkHeader(bytes, TOPIC_MESSAGES[TOPICS.alerts], now, limits)
    if (!isUnverified(header)) return header
    const checked = checkBody<AlertBody>(header, limits)
    if (!isUnverified(checked)) return checked
    const { envelope } = checked
    const sender = Buffer.from(envelope.sender).toString('hex')
    if (peer !== undefined && !this.#relayed.admit(`${peer}/${sender}`, now)) {
      return refuse(
        'flood',
        `more than ${FLOOD_SENDER_MARGIN * this.#init.maxPerSenderPerMinute} alerts of one sender in a minute`,
      )
    }
    const unshareable = nonRoutable(envelope.body.indicator)
    if (unshareable !== undefined) {
      const { entry } = unshareable
      return refuse('non_routable', `${envelope.body.indicator} is in ${entry.cidr} (${entry.note})`)
    }
    // The live rate limit guards the mesh against floods; a catch-up page is a backlog we asked for, held to a
    // per-sender allowance instead (charged only once the signature verified).
    const catchUp = live ? undefined : peerIdFromEd25519PublicKey(envelope.sender).toString()
    return this.#freshness(envelope, sender, catchUp, now) ?? { checked, sender, catchUp }
  }

  /**
   * Replay and rate from memory; undefined when the message may go on. Charges nothing. `catchUp` is the
   * sender's peer id for a message from catch-up, undefined for a live one.
   */
  #freshness(
    envelope: Envelope<AlertBody>,
    sender: string,
    catchUp: string | undefined,
    now: number,
  ): Validation<never> | undefined {
    if (this.#inFlight.has(`${sender}:${envelope.seq}`)) {
      return refuse('replayed', `seq ${envelope.seq} already being stored`)
    }
    if (catchUp === undefined && this.#limiter.recent(sender, now) >= this.#init.maxPerSenderPerMinute) {
      return refuse('rate_limited', `more than ${this.#init.maxPerSenderPerMinute} messages in a minute`)
    }
    if (catchUp !== undefined && this.#syncBudget.peek(catchUp, now) !== 'ok') {
      return refuse('over_budget', 'this sender has had all the catch-up alerts it is allowed for now')
    }
    return undefined
  }

  /** The last, synchronous steps: budget, signature, and recording what was accepted, with no await between. */
  #verify(
    checked: Unverified<AlertBody>,
    sender: string,
    catchUp: string | undefined,
    peer: string | undefined,
    now: number,
  ): Validation<AlertBody> {
    const late = this.#freshness(checked.envelope, sender, catchUp, now)
    if (late !== undefined) return late
    if (peer !== undefined) {
      // Past this budget the message is only dropped, never held against the peer: what a relay hands us to
      // verify is what it accepted itself, so an honest one can be over it in a busy minute. Floods are told by
      // the judging budget (ten times larger) and by the per-sender margin.
      const verifying = this.#verifyBudget.take(peer, now)
      if (verifying === 'pool') {
        this.counts.pooled.verified++
        return refuse('over_budget', 'untrusted peers together have had all the signatures allowed for now')
      }
      if (verifying !== 'ok') return refuse('over_budget', 'more signatures than this peer is allowed now')
    }
    this.counts.verified++
    const verdict = checkSignature(checked)
    if (verdict.action !== 'accept') return verdict
    if (catchUp === undefined) this.#limiter.record(sender, now)
    else this.#syncBudget.take(catchUp, now)
    this.#inFlight.add(`${sender}:${checked.envelope.seq}`)
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
      const verdict = await this.intake(msg.data, 'gossip', { awaitStore: false, peer: peer.toString() })
      if (verdict.action === 'reject' && verdict.reason === 'flood') this.#floodHangUp.flooded(peer)
      if (verdict.action === 'accept') return TopicValidatorResult.Accept
      if (verdict.action === 'reject') {
        this.#log.debug({ peer: peer.toString(), reason: verdict.reason }, 'rejected alert from peer')
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
    this.#relayed.prune(now)
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
