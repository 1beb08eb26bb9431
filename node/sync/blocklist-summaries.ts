import type { GossipSub, Message, SubscriptionChangeData } from '@libp2p/gossipsub'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import type { PeerId } from '@libp2p/interface'
import { peerIdFromEd25519PublicKey } from '../../crypto/identity/peer-id.ts'
import { encodeEnvelope, sealEnvelope, type Envelope } from '../../protocol/envelope/envelope.ts'
import {
  BLOCKLIST_SUMMARY_TYPE,
  BLOCKLIST_SUMMARY_VERSION,
  MAX_SUMMARY_ENTRIES,
  SummaryEntryV1,
  type BlocklistSummaryBody,
  type SummaryEntry,
} from '../../protocol/messages/blocklist-summary.ts'
import { TOPIC_MESSAGES } from '../../protocol/messages/registry.ts'
import { TOPICS } from '../../protocol/topics.ts'
import {
  checkBody,
  checkFreshness,
  checkHeader,
  checkSignature,
  isUnverified,
  refuse,
  type Validation,
  type ValidationReason,
} from '../../protocol/validation/validate-envelope.ts'
import { CpuSlices, SlicesFullError } from '../alerts/cpu-slices.ts'
import { SenderRateLimiter } from '../alerts/sender-rate-limiter.ts'
import { FloodHangUp } from '../p2p/flood-hang-up.ts'
import { trustBudget, type Allowance, type PeerBudget, type PeerUsage } from '../p2p/peer-budget.ts'
import type { Logger } from '../logging/logger.ts'

export interface BlocklistSummaryInit {
  /** whether this node publishes its own summary (it always receives others') */
  publish: boolean
  /** how often this node considers publishing its summary */
  intervalMs: number
  /**
   * A summary that blocks the same addresses as the last one sent, with no new subscriber waiting for it, is
   * sent again only this often (at the first interval that is at most half an interval early): it tells no peer
   * anything new, and every member's unchanged list every interval is steady chatter that grows with the
   * community. Kept under `ttlMs` so peers never hold an expired one.
   */
  refreshMs: number
  /** entries per summary, highest score first (at most MAX_SUMMARY_ENTRIES) */
  maxEntries: number
  /** encoded envelope cap, both for what we send and what we accept */
  maxMessageBytes: number
  /** lifetime of a summary we send: a few intervals, so a missed one does not leave peers with nothing */
  ttlMs: number
  /** longest lifetime we accept from others */
  maxTtlMs: number
  maxClockSkewMs: number
  /** summaries accepted per sender per minute; more are ignored */
  maxPerSenderPerMinute: number
  /** senders whose last sequence number we remember (replay check); the oldest are forgotten first */
  maxTrackedSenders: number
}

/** What the summary is built from: the node's current blocklist, as plain entries. */
export type SummarySource = () => Iterable<SummaryEntry>

export type SummaryListener = (
  senderPeerId: string,
  body: BlocklistSummaryBody,
  envelope: Envelope<BlocklistSummaryBody>,
) => void

export interface BlocklistSummaryComponents {
  pubsub: GossipSub
  sequence: { next(now?: number): Promise<number> }
  secretKey: Uint8Array
  publicKey: Uint8Array
  source?: SummarySource
  logger: Logger
  clock?: () => number
  /** this node's trust in a peer id, in [0, 1]: it scales what a forwarding peer may make us judge and verify */
  trustOf?: (peerId: string) => number
  /** peers trusted less than this together draw on one shared pool, besides their own budgets (issue 15) */
  trustedThreshold?: number
  /** closes our connections to a peer (libp2p's `hangUp`), for one that floods once it is graylisted */
  hangUp?: (peer: PeerId) => Promise<void>
}

export interface SummaryCounts {
  published: number
  /** intervals that sent nothing because the summary had not changed (see `refreshMs`) */
  unchanged: number
  accepted: number
  /** summaries dropped (`over_budget`) only because the pool shared by all untrusted peers was spent */
  pooled: { judged: number; verified: number }
  rejected: Partial<Record<ValidationReason, number>>
  ignored: Partial<Record<ValidationReason, number>>
}

/**
 * Summaries judged per forwarding peer (a summary is up to 1,000 entries to check against the schema, a few
 * milliseconds): a stranger's allowance and a trusted peer's, interpolated by trust. Every member sends one
 * every one to three minutes, so a relay of a large community forwards a few a second: past the allowance they
 * are dropped, never held against the relay (summaries come again; `flood` is kept for the per-sender margin).
 */
export const SUMMARY_JUDGE_ALLOWANCE_UNKNOWN: Allowance = { perSecond: 2, burst: 30 }
export const SUMMARY_JUDGE_ALLOWANCE_TRUSTED: Allowance = { perSecond: 50, burst: 500 }
/** ...and signature verifications, after the schema, per forwarding peer */
export const SUMMARY_VERIFY_ALLOWANCE_UNKNOWN: Allowance = { perSecond: 1, burst: 15 }
export const SUMMARY_VERIFY_ALLOWANCE_TRUSTED: Allowance = { perSecond: 25, burst: 250 }
/**
 * A forwarding peer that hands us more than this many times one sender's per-minute rate of summaries within a
 * minute floods: an honest relay forwards only what it accepted, which its own limiter held to the rate.
 */
export const SUMMARY_FLOOD_SENDER_MARGIN = 4

export class SummaryPublishError extends Error {
  override name = 'SummaryPublishError'
}

const DEFAULTS: BlocklistSummaryInit = {
  publish: true,
  intervalMs: 60_000,
  refreshMs: 180_000,
  maxEntries: MAX_SUMMARY_ENTRIES,
  maxMessageBytes: 256 * 1024,
  ttlMs: 5 * 60_000,
  maxTtlMs: 60 * 60_000,
  maxClockSkewMs: 30_000,
  maxPerSenderPerMinute: 6,
  maxTrackedSenders: 10_000,
}

/**
 * The top `maxEntries` of a blocklist as a summary body: invalid and expired entries dropped, highest score
 * first (ties: the longer-lived, then by value, so equal lists give equal summaries).
 */
export function buildSummary(
  source: Iterable<SummaryEntry>,
  now: number,
  maxEntries: number = MAX_SUMMARY_ENTRIES,
): BlocklistSummaryBody {
  const valid: SummaryEntry[] = []
  for (const raw of source) {
    const parsed = SummaryEntryV1.safeParse({
      value: raw.value,
      score: raw.score,
      scenario: raw.scenario,
      expiresAt: Math.floor(raw.expiresAt),
    })
    if (parsed.success && parsed.data.expiresAt > now) valid.push(parsed.data)
  }
  valid.sort(
    (a, b) =>
      b.score - a.score || b.expiresAt - a.expiresAt || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0),
  )
  const limit = Math.min(maxEntries, MAX_SUMMARY_ENTRIES)
  const entries = valid.slice(0, limit)
  return { entries, generatedAt: now, total: valid.length, truncated: valid.length > entries.length }
}

/**
 * What a summary blocks, independent of order, scores and expiry (which drift every interval as evidence
 * decays and blocks renew): the addresses and their scenarios.
 */
export function summaryFingerprint(body: BlocklistSummaryBody): string {
  return body.entries
    .map((e) => `${e.value} ${e.scenario}`)
    .sort()
    .join('\n')
}

/**
 * Whether an interval's summary goes out: always the first, and whenever what it blocks changed, a subscriber
 * is waiting for one (it subscribed since and no summary has reached it yet), or `refreshMs` passed.
 */
export function summaryDue(
  last: { fingerprint: string; at: number } | undefined,
  fingerprint: string,
  now: number,
  refreshMs: number,
  subscriberWaiting: boolean,
): boolean {
  return (
    last === undefined || subscriberWaiting || last.fingerprint !== fingerprint || now - last.at >= refreshMs
  )
}

/** subscribers remembered as waiting for a summary, at most (a flood of fresh identities must not grow it) */
const MAX_WAITING_SUBSCRIBERS = 1024

/**
 * Publishes this node's signed blocklist summary on `/shieldwall/blocklists/1` every interval and validates
 * everyone else's with the shared envelope validator (as the gossipsub topic validator, so a forged one costs
 * the forwarding peer), then hands accepted ones to the listeners.
 */
export class BlocklistSummaryService {
  readonly #init: BlocklistSummaryInit
  readonly #c: BlocklistSummaryComponents
  readonly #clock: () => number
  readonly #log: Logger
  readonly #listeners = new Set<SummaryListener>()
  readonly #limiter: SenderRateLimiter
  readonly #judgeBudget: PeerBudget
  readonly #verifyBudget: PeerBudget
  /** per (forwarding peer, sender): summaries delivered in the last minute */
  readonly #relayed: SenderRateLimiter
  /** judging runs a turn of the event loop apart from other work, a few summaries at a time */
  readonly #slices = new CpuSlices()
  readonly #floodHangUp: FloodHangUp
  /** sender hex -> highest seq accepted; Map order doubles as least-recently-updated for eviction */
  readonly #lastSeq = new Map<string, number>()
  readonly #publicKeyHex: string
  #source: SummarySource
  #timer?: NodeJS.Timeout
  #lastWasEmpty = true
  /** what the last summary sent blocked, and when it went */
  #lastSent?: { fingerprint: string; at: number }
  /**
   * Peers that subscribed to summaries since one of ours last reached them, and when: they may have none of
   * ours. A peer leaves when a summary reaches it (gossipsub names the recipients; one whose stream was not yet
   * open is not among them and stays), when it unsubscribes, or after `refreshMs`, when the refresh covers it.
   */
  readonly #waiting = new Map<string, number>()
  readonly counts: SummaryCounts = {
    published: 0,
    unchanged: 0,
    accepted: 0,
    pooled: { judged: 0, verified: 0 },
    rejected: {},
    ignored: {},
  }

  constructor(init: BlocklistSummaryInit, components: BlocklistSummaryComponents) {
    this.#init = init
    this.#c = components
    this.#clock = components.clock ?? Date.now
    this.#log = components.logger.child({ component: 'blocklist-summaries' })
    this.#limiter = new SenderRateLimiter(init.maxPerSenderPerMinute)
    this.#relayed = new SenderRateLimiter(SUMMARY_FLOOD_SENDER_MARGIN * init.maxPerSenderPerMinute)
    const trustOf = components.trustOf ?? (() => 0)
    const threshold = components.trustedThreshold
    this.#judgeBudget = trustBudget(
      SUMMARY_JUDGE_ALLOWANCE_UNKNOWN,
      SUMMARY_JUDGE_ALLOWANCE_TRUSTED,
      trustOf,
      threshold,
    )
    this.#verifyBudget = trustBudget(
      SUMMARY_VERIFY_ALLOWANCE_UNKNOWN,
      SUMMARY_VERIFY_ALLOWANCE_TRUSTED,
      trustOf,
      threshold,
    )
    this.#floodHangUp = new FloodHangUp(components.pubsub, components.hangUp, this.#log, this.#clock)
    this.#source = components.source ?? (() => [])
    this.#publicKeyHex = Buffer.from(components.publicKey).toString('hex')
  }

  start(): void {
    const { pubsub } = this.#c
    pubsub.topicValidators.set(TOPICS.blocklists, (peer, msg) => this.#validateGossip(peer, msg))
    pubsub.subscribe(TOPICS.blocklists)
    pubsub.addEventListener('subscription-change', this.#onSubscriptionChange)
    if (!this.#init.publish) return
    // The first tick at a random point of the interval: members started together, or whose lists all change
    // in the same attack, would otherwise sign, send and check each other's summaries in the same second.
    this.#timer = setTimeout(() => {
      this.#timer = setInterval(() => void this.#tick(), this.#init.intervalMs).unref()
      void this.#tick()
    }, Math.random() * this.#init.intervalMs).unref()
  }

  stop(): void {
    // the first tick's timeout or the interval (Node clears either)
    clearInterval(this.#timer)
    this.#floodHangUp.stop()
    this.#c.pubsub.removeEventListener('subscription-change', this.#onSubscriptionChange)
    this.#c.pubsub.topicValidators.delete(TOPICS.blocklists)
    try {
      this.#c.pubsub.unsubscribe(TOPICS.blocklists)
    } catch {
      // pubsub may already be stopping with libp2p
    }
  }

  /** The blocklist is wired in after construction by whoever owns it. */
  setSource(source: SummarySource): void {
    this.#source = source
  }

  onSummary(listener: SummaryListener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /**
   * Builds, signs and gossips a summary now. Returns what was sent, or undefined when there was nothing to
   * say (an empty list after an empty list).
   */
  async publishNow(): Promise<BlocklistSummaryBody | undefined> {
    const now = this.#clock()
    return this.#publish(buildSummary(this.#source(), now, this.#init.maxEntries), now)
  }

  readonly #onSubscriptionChange = (evt: CustomEvent<SubscriptionChangeData>): void => {
    const change = evt.detail.subscriptions.find((s) => s.topic === TOPICS.blocklists)
    if (change === undefined) return
    const peer = evt.detail.peerId.toString()
    if (!change.subscribe) {
      this.#waiting.delete(peer)
      return
    }
    if (this.#waiting.size >= MAX_WAITING_SUBSCRIBERS)
      this.#waiting.delete(this.#waiting.keys().next().value as string)
    if (!this.#waiting.has(peer)) this.#waiting.set(peer, this.#clock())
  }

  /** Whether a subscriber still waits for a summary; forgets those the refresh will reach anyway. */
  #subscriberWaiting(now: number): boolean {
    for (const [peer, since] of this.#waiting)
      if (now - since >= this.#init.refreshMs) this.#waiting.delete(peer)
    return this.#waiting.size > 0
  }

  async #publish(body: BlocklistSummaryBody, now: number): Promise<BlocklistSummaryBody | undefined> {
    if (body.entries.length === 0 && this.#lastWasEmpty) {
      // nothing to tell anyone, a newcomer included
      this.#waiting.clear()
      return undefined
    }
    const fingerprint = summaryFingerprint(body)
    const seq = await this.#c.sequence.next(now)
    for (;;) {
      const bytes = encodeEnvelope(
        sealEnvelope<BlocklistSummaryBody>(
          {
            type: BLOCKLIST_SUMMARY_TYPE,
            version: BLOCKLIST_SUMMARY_VERSION,
            sender: this.#c.publicKey,
            seq,
            createdAt: now,
            expiresAt: now + this.#init.ttlMs,
            body,
          },
          this.#c.secretKey,
        ),
      )
      if (bytes.length <= this.#init.maxMessageBytes) {
        const { recipients } = await this.#c.pubsub.publish(TOPICS.blocklists, bytes)
        for (const peer of recipients) this.#waiting.delete(peer.toString())
        this.counts.published++
        this.#lastWasEmpty = body.entries.length === 0
        this.#lastSent = { fingerprint, at: now }
        return body
      }
      // Long values make some entries bigger than others; halving converges in a few rounds.
      if (body.entries.length === 0) {
        throw new SummaryPublishError(`an empty summary is over the ${this.#init.maxMessageBytes} byte cap`)
      }
      const entries = body.entries.slice(0, Math.floor(body.entries.length / 2))
      body = { ...body, entries, truncated: true }
    }
  }

  async #tick(): Promise<void> {
    try {
      const now = this.#clock()
      const body = buildSummary(this.#source(), now, this.#init.maxEntries)
      // Ticks land an interval apart, a little late or early: half an interval of slack makes the refresh the
      // first tick at `refreshMs` rather than one interval after it.
      const refreshMs = this.#init.refreshMs - this.#init.intervalMs / 2
      if (
        !summaryDue(this.#lastSent, summaryFingerprint(body), now, refreshMs, this.#subscriberWaiting(now))
      ) {
        this.counts.unchanged++
        return
      }
      await this.#publish(body, now)
    } catch (err) {
      this.#log.warn({ err }, 'blocklist summary not published')
    }
  }

  /**
   * Judges wire bytes of a summary; exported through the validator and usable by other paths. Cheapest first,
   * the signature last: the forwarding peer's budget, size, decoding and time window, replay, the per-sender
   * rate and margin, the body schema (up to 1,000 entries), the verification budget, then the signature.
   * Nothing is charged to the sender a summary names before its signature verifies.
   */
  intake(bytes: Uint8Array, peer?: string): Validation<BlocklistSummaryBody> {
    const verdict = this.#judge(bytes, peer, this.#clock())
    if (verdict.action === 'accept') return verdict
    const bucket = verdict.action === 'reject' ? this.counts.rejected : this.counts.ignored
    bucket[verdict.reason] = (bucket[verdict.reason] ?? 0) + 1
    return verdict
  }

  /** What a forwarding peer has used of its budgets (verified.spent: signatures checked for it). */
  peerUsage(peer: string): { judged: PeerUsage; verified: PeerUsage } {
    return { judged: this.#judgeBudget.usage(peer), verified: this.#verifyBudget.usage(peer) }
  }

  #judge(bytes: Uint8Array, peer: string | undefined, now: number): Validation<BlocklistSummaryBody> {
    const judged = peer === undefined ? 'ok' : this.#judgeBudget.take(peer, now)
    if (judged === 'pool') return this.#pooled('judged')
    if (judged !== 'ok') return refuse('over_budget', 'more summaries than this peer is allowed now')
    const limits = {
      maxBytes: this.#init.maxMessageBytes,
      maxClockSkewMs: this.#init.maxClockSkewMs,
      maxTtlMs: this.#init.maxTtlMs,
    }
    const header = checkHeader(bytes, TOPIC_MESSAGES[TOPICS.blocklists], now, limits)
    if (!isUnverified(header)) return header
    const sender = Buffer.from(header.envelope.sender).toString('hex')
    const last = this.#lastSeq.get(sender)
    const fresh = checkFreshness(
      header.envelope,
      {
        seen: last !== undefined && header.envelope.seq <= last,
        recentFromSender: this.#limiter.recent(sender, now),
      },
      { maxPerSenderPerMinute: this.#init.maxPerSenderPerMinute },
    )
    if (peer !== undefined && !this.#relayed.admit(`${peer}/${sender}`, now)) {
      return refuse(
        'flood',
        `more than ${SUMMARY_FLOOD_SENDER_MARGIN * this.#init.maxPerSenderPerMinute} summaries of one sender in a minute`,
      )
    }
    if (fresh.action !== 'accept') return fresh
    const checked = checkBody<BlocklistSummaryBody>(header, limits)
    if (!isUnverified(checked)) return checked
    const verifying = peer === undefined ? 'ok' : this.#verifyBudget.take(peer, now)
    if (verifying === 'pool') return this.#pooled('verified')
    if (verifying !== 'ok') {
      return refuse('over_budget', 'more summary signatures than this peer is allowed now')
    }
    const verdict = checkSignature(checked)
    if (verdict.action !== 'accept') return verdict
    this.#limiter.record(sender, now)
    this.#remember(sender, verdict.envelope.seq)
    this.counts.accepted++
    if (sender !== this.#publicKeyHex) this.#emit(verdict.envelope)
    return verdict
  }

  /** The crowd of untrusted peers spent the shared pool, not this peer alone: dropped, not held against it. */
  #pooled(budget: 'judged' | 'verified'): Validation<never> {
    this.counts.pooled[budget]++
    return refuse('over_budget', 'untrusted peers together have sent all the summaries allowed for now')
  }

  #remember(sender: string, seq: number): void {
    this.#lastSeq.delete(sender)
    this.#lastSeq.set(sender, seq)
    if (this.#lastSeq.size > this.#init.maxTrackedSenders) {
      const oldest = this.#lastSeq.keys().next().value
      if (oldest !== undefined) this.#lastSeq.delete(oldest)
    }
    if (this.#limiter.senders > this.#init.maxTrackedSenders) this.#limiter.prune(this.#clock())
  }

  async #validateGossip(peer: PeerId, msg: Message): Promise<TopicValidatorResult> {
    try {
      // judged in slices, a turn of the event loop apart: a burst of summaries must not hold up the node
      const verdict = await this.#slices.run(() => this.intake(msg.data, peer.toString()))
      if (verdict.action === 'accept') return TopicValidatorResult.Accept
      if (verdict.action === 'reject' && verdict.reason === 'flood') this.#floodHangUp.flooded(peer)
      this.#log.debug(
        { peer: peer.toString(), reason: verdict.reason },
        `blocklist summary ${verdict.action}ed`,
      )
      return verdict.action === 'reject' ? TopicValidatorResult.Reject : TopicValidatorResult.Ignore
    } catch (err) {
      if (err instanceof SlicesFullError) return TopicValidatorResult.Ignore
      this.#log.error({ err }, 'blocklist summary intake failed')
      return TopicValidatorResult.Ignore
    }
  }

  #emit(envelope: Envelope<BlocklistSummaryBody>): void {
    const senderPeerId = peerIdFromEd25519PublicKey(envelope.sender).toString()
    for (const listener of this.#listeners) {
      try {
        listener(senderPeerId, envelope.body, envelope)
      } catch (err) {
        this.#log.error({ err }, 'blocklist summary listener failed')
      }
    }
  }
}

export function blocklistSummaries(
  init: Partial<BlocklistSummaryInit> = {},
): (components: BlocklistSummaryComponents) => BlocklistSummaryService {
  const merged: BlocklistSummaryInit = {
    ...DEFAULTS,
    ...(Object.fromEntries(
      Object.entries(init).filter(([, v]) => v !== undefined),
    ) as Partial<BlocklistSummaryInit>),
  }
  return (components) => new BlocklistSummaryService(merged, components)
}
