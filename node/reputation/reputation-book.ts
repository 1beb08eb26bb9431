import type { Logger } from '../logging/logger.ts'
import type { Store } from '../store/open-store.ts'
import {
  decay,
  DEFAULT_HALF_LIFE_MS,
  expected,
  parseBetaState,
  priorState,
  record as recordEvidence,
  trust as betaTrust,
  type BetaState,
} from './beta-reputation.ts'
import { EVIDENCE, isEvidenceKind, type EvidenceKind } from './evidence.ts'
import { gossipAppScore, type Pin } from './gossip-app-score.ts'

export type { Pin } from './gossip-app-score.ts'

export interface ReputationBookInit {
  halfLifeMs: number
  /** beyond this many peers, the least recently seen unpinned peer is forgotten */
  maxPeers: number
  /** evidence entries kept per peer for admins to see why */
  recentEvidence: number
  /** the trust of a peer an admin pinned as trusted */
  pinnedTrust: number
  /** ordinary evidence is written at most this long after it was recorded; pins are written at once */
  flushDelayMs: number
}

export interface ReputationBookComponents {
  store: Store
  clock?: () => number
  logger?: Logger
}

/** Where a piece of evidence came from, for the admin's "why". */
export interface EvidenceDetail {
  alertId?: string
  indicator?: string
  note?: string
}

export interface EvidenceEntry extends EvidenceDetail {
  kind: EvidenceKind
  at: number
}

/** What is stored per peer. */
export interface PeerRecord {
  peerId: string
  /** all evidence */
  state: BetaState
  /** all evidence but the soft kind; decides whether gossipsub should treat the peer as a liar */
  conduct: BetaState
  /** lifetime totals per kind (not decayed) */
  counts: Partial<Record<EvidenceKind, number>>
  firstSeen: number
  lastSeen: number
  pinned?: Pin
  /** newest last */
  recent: EvidenceEntry[]
}

/** A peer as the API shows it: the stored record with its states decayed to now and what they amount to. */
export interface PeerReputation extends PeerRecord {
  trust: number
  /** the mean of the Beta distribution, before the uncertainty discount */
  expected: number
  gossipScore: number
}

export interface TrustChange {
  peerId: string
  previous: number
  trust: number
  cause: EvidenceKind | 'pin'
}

export class InvalidPeerIdError extends Error {
  override name = 'InvalidPeerIdError'
}

export class InvalidEvidenceError extends Error {
  override name = 'InvalidEvidenceError'
}

export class InvalidReputationBookInitError extends Error {
  override name = 'InvalidReputationBookInitError'
}

export class ReputationBookStateError extends Error {
  override name = 'ReputationBookStateError'
}

const DEFAULTS: ReputationBookInit = {
  halfLifeMs: DEFAULT_HALF_LIFE_MS,
  maxPeers: 100_000,
  recentEvidence: 50,
  pinnedTrust: 1,
  flushDelayMs: 1000,
}

/** libp2p peer id strings are ~52 characters; anything far longer is not one */
export const MAX_PEER_ID_LENGTH = 128
const MAX_DETAIL_LENGTH = 256
const PRIOR_TRUST = betaTrust(priorState(0))

type Listener = (change: TrustChange) => void

/**
 * This node's opinion of every peer it has evidence about, kept in the `reputation` sublevel (one key per
 * peer). Reads and evidence are synchronous and in memory so gossip validators can use them; evidence is
 * written in debounced batches, pins at once (an admin's ban must survive a crash the moment it is
 * acknowledged), and everything on `stop()`.
 */
export class ReputationBook {
  readonly #init: ReputationBookInit
  readonly #db
  readonly #clock: () => number
  readonly #log?: Logger
  /** in least-recently-seen order: a peer is moved to the end whenever it is seen, so eviction takes the front */
  readonly #peers = new Map<string, PeerRecord>()
  readonly #dirty = new Set<string>()
  readonly #listeners = new Set<Listener>()
  #timer?: NodeJS.Timeout
  #flushing: Promise<void> = Promise.resolve()
  #opened = false
  /** records skipped at load because they did not parse */
  corrupt = 0
  evicted = 0

  constructor(init: ReputationBookInit, components: ReputationBookComponents) {
    for (const k of ['maxPeers', 'recentEvidence'] as const) {
      if (!Number.isSafeInteger(init[k]) || init[k] <= 0) {
        throw new InvalidReputationBookInitError(`${k} must be a positive integer, got ${init[k]}`)
      }
    }
    for (const k of ['halfLifeMs', 'flushDelayMs'] as const) {
      if (!Number.isFinite(init[k]) || init[k] < 0) {
        throw new InvalidReputationBookInitError(`${k} must be a non-negative number, got ${init[k]}`)
      }
    }
    if (!(init.pinnedTrust >= 0 && init.pinnedTrust <= 1)) {
      throw new InvalidReputationBookInitError(`pinnedTrust must be in [0, 1], got ${init.pinnedTrust}`)
    }
    this.#init = init
    this.#db = components.store.sublevel<string, string>('reputation', { valueEncoding: 'utf8' })
    this.#clock = components.clock ?? Date.now
    this.#log = components.logger?.child({ component: 'reputation' })
  }

  async open(): Promise<void> {
    if (this.#opened) return
    const loaded: PeerRecord[] = []
    for await (const [key, raw] of this.#db.iterator()) {
      try {
        loaded.push(parseRecord(key, JSON.parse(raw)))
      } catch (err) {
        this.corrupt++
        this.#log?.warn({ peerId: key, err }, 'skipping an unreadable reputation record')
      }
    }
    loaded.sort((a, b) => a.lastSeen - b.lastSeen)
    for (const r of loaded) {
      if (r.recent.length > this.#init.recentEvidence) r.recent = r.recent.slice(-this.#init.recentEvidence)
      this.#peers.set(r.peerId, r)
    }
    this.#opened = true
    this.#evict()
  }

  /** Same as `open()`, for the libp2p service shape. */
  start(): Promise<void> {
    return this.open()
  }

  async stop(): Promise<void> {
    clearTimeout(this.#timer)
    this.#timer = undefined
    await this.flush()
  }

  get size(): number {
    return this.#peers.size
  }

  /** How much this peer's alerts weigh, in [0, 1]. Peers we know nothing about get the prior's value. */
  /** every known peer's trust now, without copying their records (for metrics) */
  trustValues(): number[] {
    return [...this.#peers.keys()].map((id) => this.trust(id))
  }

  trust(peerId: string): number {
    const r = this.#peers.get(peerId)
    if (r === undefined) return PRIOR_TRUST
    if (r.pinned === 'banned') return 0
    if (r.pinned === 'trusted') return this.#init.pinnedTrust
    return betaTrust(decay(r.state, this.#clock(), this.#init.halfLifeMs))
  }

  /** gossipsub's app-specific score for this peer (`appSpecificScore` in the host's score params). */
  gossipScore(peerId: string): number {
    const r = this.#peers.get(peerId)
    if (r === undefined) return 0
    const now = this.#clock()
    return gossipAppScore({
      state: decay(r.state, now, this.#init.halfLifeMs),
      conduct: decay(r.conduct, now, this.#init.halfLifeMs),
      ...(r.pinned !== undefined ? { pinned: r.pinned } : {}),
    })
  }

  /** Adds one piece of evidence and returns the peer's new trust. Throws on a malformed id or kind. */
  record(peerId: string, kind: EvidenceKind, detail: EvidenceDetail = {}): number {
    this.#assertOpen()
    checkPeerId(peerId)
    if (!isEvidenceKind(kind)) throw new InvalidEvidenceError(`unknown evidence kind ${String(kind)}`)
    const previous = this.trust(peerId)
    const now = this.#clock()
    const r = this.#touch(peerId, now)
    const { outcome, weight, soft } = EVIDENCE[kind]
    const half = this.#init.halfLifeMs
    r.state = recordEvidence(r.state, outcome, weight, now, half)
    r.conduct = soft ? decay(r.conduct, now, half) : recordEvidence(r.conduct, outcome, weight, now, half)
    r.counts[kind] = (r.counts[kind] ?? 0) + 1
    r.recent.push({ kind, at: now, ...cleanDetail(detail) })
    if (r.recent.length > this.#init.recentEvidence)
      r.recent.splice(0, r.recent.length - this.#init.recentEvidence)
    this.#markDirty(peerId)
    this.#evict()
    const next = this.trust(peerId)
    this.#emit({ peerId, previous, trust: next, cause: kind })
    return next
  }

  /**
   * An admin's override: `trusted` pins trust at `pinnedTrust`, `banned` at 0, `null` returns the peer to its
   * evidence. Resolves once the pin is on disk.
   */
  async pin(peerId: string, pin: Pin | null): Promise<void> {
    this.#assertOpen()
    checkPeerId(peerId)
    if (pin !== null && pin !== 'trusted' && pin !== 'banned') {
      throw new InvalidEvidenceError(`pin must be 'trusted', 'banned' or null, got ${String(pin)}`)
    }
    const existing = this.#peers.get(peerId)
    if (existing === undefined && pin === null) return
    const previous = this.trust(peerId)
    const r = existing ?? this.#touch(peerId, this.#clock())
    if (pin === null) delete r.pinned
    else r.pinned = pin
    this.#markDirty(peerId)
    this.#evict()
    const next = this.trust(peerId)
    this.#emit({ peerId, previous, trust: next, cause: 'pin' })
    await this.flush()
  }

  get(peerId: string): PeerReputation | undefined {
    const r = this.#peers.get(peerId)
    return r === undefined ? undefined : this.#view(r)
  }

  /** Most recently seen first; pass `pinned` to see only pinned peers. */
  list(opts: { limit?: number; pinned?: boolean } = {}): PeerReputation[] {
    const limit = opts.limit ?? 100
    const out: PeerReputation[] = []
    const all = [...this.#peers.values()]
    for (let i = all.length - 1; i >= 0 && out.length < limit; i--) {
      const r = all[i]
      if (opts.pinned === true && r.pinned === undefined) continue
      out.push(this.#view(r))
    }
    return out
  }

  /**
   * Called synchronously after evidence or a pin changes a peer's trust (time decay alone is not announced).
   * Returns an unsubscribe function.
   */
  onChange(listener: Listener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** Writes every pending change; a failed write keeps the changes pending and rejects. */
  flush(): Promise<void> {
    const run = this.#flushing.catch(() => undefined).then(() => this.#write())
    this.#flushing = run
    return run
  }

  async #write(): Promise<void> {
    if (this.#dirty.size === 0) return
    const keys = [...this.#dirty]
    this.#dirty.clear()
    const ops = keys.map((key) => {
      const r = this.#peers.get(key)
      return r === undefined
        ? { type: 'del' as const, key }
        : { type: 'put' as const, key, value: JSON.stringify(r) }
    })
    try {
      await this.#db.batch(ops)
    } catch (err) {
      for (const key of keys) this.#dirty.add(key)
      this.#log?.error({ err, peers: keys.length }, 'writing reputation failed; will retry')
      this.#schedule()
      throw err
    }
  }

  #schedule(): void {
    if (this.#timer !== undefined) return
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      this.flush().catch(() => undefined)
    }, this.#init.flushDelayMs)
    this.#timer.unref?.()
  }

  #markDirty(peerId: string): void {
    this.#dirty.add(peerId)
    this.#schedule()
  }

  /** The peer's record, created if new, moved to the most-recently-seen end. */
  #touch(peerId: string, now: number): PeerRecord {
    let r = this.#peers.get(peerId)
    if (r === undefined) {
      r = {
        peerId,
        state: priorState(now),
        conduct: priorState(now),
        counts: {},
        firstSeen: now,
        lastSeen: now,
        recent: [],
      }
    } else {
      this.#peers.delete(peerId)
      r.lastSeen = Math.max(r.lastSeen, now)
    }
    this.#peers.set(peerId, r)
    return r
  }

  #evict(): void {
    if (this.#peers.size <= this.#init.maxPeers) return
    for (const [peerId, r] of this.#peers) {
      if (this.#peers.size <= this.#init.maxPeers) break
      // pins are admin decisions; only the admin removes them
      if (r.pinned !== undefined) continue
      this.#peers.delete(peerId)
      this.#markDirty(peerId)
      this.evicted++
    }
  }

  #view(r: PeerRecord): PeerReputation {
    const now = this.#clock()
    const state = decay(r.state, now, this.#init.halfLifeMs)
    const conduct = decay(r.conduct, now, this.#init.halfLifeMs)
    return {
      ...structuredClone(r),
      state,
      conduct,
      trust: this.trust(r.peerId),
      expected: expected(state),
      gossipScore: this.gossipScore(r.peerId),
    }
  }

  #emit(change: TrustChange): void {
    for (const listener of this.#listeners) {
      try {
        listener(change)
      } catch (err) {
        this.#log?.error({ err, peerId: change.peerId }, 'a reputation listener threw')
      }
    }
  }

  #assertOpen(): void {
    if (!this.#opened) throw new ReputationBookStateError('open() the reputation book before changing it')
  }
}

export function reputationBook(
  init: Partial<ReputationBookInit> = {},
): (components: ReputationBookComponents) => ReputationBook {
  const merged = {
    ...DEFAULTS,
    ...Object.fromEntries(Object.entries(init).filter(([, v]) => v !== undefined)),
  } as ReputationBookInit
  return (components) => new ReputationBook(merged, components)
}

function checkPeerId(peerId: unknown): asserts peerId is string {
  if (typeof peerId !== 'string' || peerId.length === 0 || peerId.length > MAX_PEER_ID_LENGTH) {
    throw new InvalidPeerIdError(`not a peer id: ${JSON.stringify(peerId)?.slice(0, 80)}`)
  }
}

function cleanDetail(detail: EvidenceDetail): EvidenceDetail {
  const out: EvidenceDetail = {}
  for (const k of ['alertId', 'indicator', 'note'] as const) {
    const v = detail[k]
    if (typeof v === 'string') out[k] = v.slice(0, MAX_DETAIL_LENGTH)
  }
  return out
}

function parseRecord(key: string, value: unknown): PeerRecord {
  const v = value as Partial<PeerRecord>
  if (typeof v !== 'object' || v === null || v.peerId !== key) {
    throw new InvalidEvidenceError('record does not belong to its key')
  }
  if (!Number.isFinite(v.firstSeen) || !Number.isFinite(v.lastSeen)) {
    throw new InvalidEvidenceError('firstSeen/lastSeen missing')
  }
  const counts: Partial<Record<EvidenceKind, number>> = {}
  for (const [kind, n] of Object.entries(v.counts ?? {})) {
    if (isEvidenceKind(kind) && Number.isSafeInteger(n) && n >= 0) counts[kind] = n
  }
  const recent = Array.isArray(v.recent)
    ? v.recent
        .filter((e) => isEvidenceKind(e?.kind) && Number.isFinite(e?.at))
        .map((e) => ({ kind: e.kind, at: e.at, ...cleanDetail(e) }))
    : []
  return {
    peerId: key,
    state: parseBetaState(v.state),
    conduct: parseBetaState(v.conduct),
    counts,
    firstSeen: v.firstSeen as number,
    lastSeen: v.lastSeen as number,
    ...(v.pinned === 'trusted' || v.pinned === 'banned' ? { pinned: v.pinned } : {}),
    recent,
  }
}
