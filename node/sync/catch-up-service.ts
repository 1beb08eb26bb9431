import type { IdentifyResult, PeerId } from '@libp2p/interface'
import { ALERTS_SYNC_PROTOCOL } from '../../protocol/messages/sync-page.ts'
import type { Logger } from '../logging/logger.ts'
import type { ShieldwallHost } from '../p2p/create-host.ts'
import type { AlertSync, CatchUpResult } from './alert-sync.ts'
import { ALERTS_SYNC_CID } from './provider-key.ts'
import { catchUpSince, type SyncWatermark } from './sync-watermark.ts'

export interface CatchUpServiceInit {
  /** peers a round catches up from before it is done */
  peersPerRound: number
  /** peers a round tries at most (failures included), so a hostile neighbourhood cannot keep it busy */
  maxAttemptsPerRound: number
  /** asked for before the watermark: clock skew between nodes and gossip still in flight when we left */
  marginMs: number
  /** never asked for further back than this (alerts older than the longest TTL are expired anyway) */
  lookbackMs: number
  /** one whole catch-up (all pages) from one peer */
  catchUpTimeoutMs: number
  findProvidersTimeoutMs: number
  maxProviderCandidates: number
  provideTimeoutMs: number
  /**
   * The provider record is announced this long after the first peer is identified (the routing table is
   * warm by then and one query reaches the right peers), then again every `reprovideMs`. Announcing on every
   * new connection cost a DHT query per peer and made joining a 50-node network take seconds per node.
   */
  provideDelayMs: number
  reprovideMs: number
  /** the DHT is only searched for providers when fewer connected peers than this serve the sync protocol */
  providerSearchDelayMs: number
  /** while connected and caught up, the watermark follows the clock this often */
  heartbeatMs: number
  /**
   * a peer that refused us for asking too often (its limit is per peer per minute) is asked again after this,
   * from where it stopped
   */
  retryDelayMs: number
  maxRetriesPerPeer: number
  /** after the first complete catch-up, how long a round waits for more peers before it closes anyway */
  roundGraceMs: number
}

export interface CatchUpServiceComponents {
  libp2p: ShieldwallHost
  sync: Pick<AlertSync, 'catchUp'>
  watermark: SyncWatermark
  logger: Logger
  clock?: () => number
}

interface Round {
  since: number
  startedAt: number
  attempted: Set<string>
  succeeded: Set<string>
  retries: Map<string, number>
  /** per peer refused mid-way: where to resume, and when the first attempt started (the watermark's bound) */
  resume: Map<string, { cursor?: string; startedAt: number }>
  providersSearched: boolean
}

const DEFAULTS: CatchUpServiceInit = {
  peersPerRound: 3,
  maxAttemptsPerRound: 12,
  marginMs: 10 * 60_000,
  lookbackMs: 30 * 86_400_000,
  catchUpTimeoutMs: 60_000,
  findProvidersTimeoutMs: 5_000,
  maxProviderCandidates: 10,
  provideTimeoutMs: 30_000,
  provideDelayMs: 10_000,
  // kad-dht provider records live 48 h
  reprovideMs: 12 * 3600_000,
  providerSearchDelayMs: 3_000,
  heartbeatMs: 60_000,
  retryDelayMs: 65_000,
  maxRetriesPerPeer: 3,
  roundGraceMs: 2 * 60_000,
}

/**
 * When to catch up and from whom. A round opens at start and whenever the node loses its last connection;
 * it takes peers that announce the sync protocol (identify) as they connect, plus DHT providers of the
 * well-known sync CID, and closes after `peersPerRound` complete catch-ups. Catch-ups run one at a time:
 * the first peer usually brings everything and the others then cost only cheap replay checks.
 */
export class CatchUpService {
  readonly #init: CatchUpServiceInit
  readonly #c: CatchUpServiceComponents
  readonly #clock: () => number
  readonly #log: Logger
  #round?: Round
  #queue: Promise<void> = Promise.resolve()
  #stop = new AbortController()
  #heartbeat?: NodeJS.Timeout
  readonly #timers = new Set<NodeJS.Timeout>()
  #providing = false
  #provideTimer?: NodeJS.Timeout
  /** when the provider record last reached at least one peer */
  #providedAt = 0
  readonly results: CatchUpResult[] = []

  constructor(init: CatchUpServiceInit, components: CatchUpServiceComponents) {
    this.#init = init
    this.#c = components
    this.#clock = components.clock ?? Date.now
    this.#log = components.logger.child({ component: 'catch-up' })
  }

  /** true while a round is open (the node has not yet caught up from enough peers) */
  get catchingUp(): boolean {
    return this.#round !== undefined
  }

  start(): void {
    this.#stop = new AbortController()
    const host = this.#c.libp2p
    host.addEventListener('peer:identify', this.#onIdentify)
    host.addEventListener('peer:disconnect', this.#onDisconnect)
    this.#heartbeat = setInterval(() => void this.#beat(), this.#init.heartbeatMs).unref()
    this.#openRound()
  }

  async stop(): Promise<void> {
    const host = this.#c.libp2p
    host.removeEventListener('peer:identify', this.#onIdentify)
    host.removeEventListener('peer:disconnect', this.#onDisconnect)
    clearInterval(this.#heartbeat)
    clearTimeout(this.#provideTimer)
    this.#provideTimer = undefined
    for (const t of this.#timers) clearTimeout(t)
    this.#timers.clear()
    // A node stopping while connected and caught up was current up to now.
    await this.#beat().catch(() => undefined)
    this.#stop.abort()
    await this.#queue
  }

  /** Waits for the catch-ups queued so far (tests, and callers that want to know). */
  async idle(): Promise<void> {
    await this.#queue
  }

  #openRound(): void {
    const now = this.#clock()
    const since = catchUpSince(this.#c.watermark.value, now, this.#init)
    this.#round = {
      since,
      startedAt: now,
      attempted: new Set(),
      succeeded: new Set(),
      retries: new Map(),
      resume: new Map(),
      providersSearched: false,
    }
    this.#log.debug({ since }, 'catch-up round opened')
    for (const peer of this.#c.libp2p.getPeers()) void this.#considerConnected(peer)
  }

  readonly #onIdentify = (evt: CustomEvent<IdentifyResult>): void => {
    const { peerId, protocols } = evt.detail
    if (protocols.includes(ALERTS_SYNC_PROTOCOL)) this.#enqueue(peerId)
    const round = this.#round
    if (round !== undefined && !round.providersSearched) {
      round.providersSearched = true
      // connected peers usually suffice: search the DHT only if they do not, once the first dials settled
      this.#later(() => {
        if (this.#round === round && round.attempted.size < this.#init.peersPerRound)
          void this.#searchProviders(round)
      }, this.#init.providerSearchDelayMs)
    }
    // A record sent while we had no peers went nowhere: announce once we have some, then now and then.
    if (this.#provideTimer === undefined && this.#clock() - this.#providedAt >= this.#init.reprovideMs)
      this.#scheduleProvide(this.#init.provideDelayMs)
  }

  #scheduleProvide(ms: number): void {
    if (this.#stop.signal.aborted) return
    clearTimeout(this.#provideTimer)
    this.#provideTimer = setTimeout(() => {
      this.#provideTimer = undefined
      void this.#provide().then((reached) => {
        if (reached) this.#scheduleProvide(this.#init.reprovideMs)
      })
    }, ms)
    this.#provideTimer.unref()
  }

  readonly #onDisconnect = (): void => {
    if (this.#round === undefined && this.#c.libp2p.getConnections().length === 0) {
      this.#log.info('lost every connection: will catch up when peers return')
      this.#openRound()
    }
  }

  async #considerConnected(peer: PeerId): Promise<void> {
    try {
      const record = await this.#c.libp2p.peerStore.get(peer)
      if (record.protocols.includes(ALERTS_SYNC_PROTOCOL)) this.#enqueue(peer)
    } catch {
      // not identified yet: peer:identify will bring it
    }
  }

  async #searchProviders(round: Round): Promise<void> {
    const dht = this.#c.libp2p.services.dht
    if (dht === undefined) return
    const signal = AbortSignal.any([
      AbortSignal.timeout(this.#init.findProvidersTimeoutMs),
      this.#stop.signal,
    ])
    let found = 0
    try {
      for await (const event of dht.findProviders(ALERTS_SYNC_CID, { signal })) {
        if (event.name !== 'PROVIDER') continue
        for (const provider of event.providers) {
          if (provider.id.equals(this.#c.libp2p.peerId)) continue
          if (provider.multiaddrs.length > 0) {
            await this.#c.libp2p.peerStore.merge(provider.id, { multiaddrs: provider.multiaddrs })
          }
          if (this.#round !== round) return
          this.#enqueue(provider.id)
          if (++found >= this.#init.maxProviderCandidates) return
        }
      }
    } catch (err) {
      if (!signal.aborted) this.#log.debug({ err }, 'provider search failed')
    }
  }

  /** true when the record reached at least one peer */
  async #provide(): Promise<boolean> {
    const dht = this.#c.libp2p.services.dht
    if (dht === undefined || this.#providing) return false
    if (this.#c.libp2p.getConnections().length === 0) return false
    this.#providing = true
    const signal = AbortSignal.any([AbortSignal.timeout(this.#init.provideTimeoutMs), this.#stop.signal])
    let reached = false
    try {
      for await (const event of dht.provide(ALERTS_SYNC_CID, { signal })) {
        // the records are sent as the query runs
        if (event.name === 'PEER_RESPONSE') reached = true
      }
    } catch (err) {
      if (!signal.aborted) this.#log.debug({ err }, 'providing the sync CID failed')
    } finally {
      this.#providing = false
    }
    if (reached) this.#providedAt = this.#clock()
    return reached
  }

  #enqueue(peer: PeerId): void {
    const round = this.#round
    const id = peer.toString()
    if (round === undefined || round.attempted.has(id) || this.#stop.signal.aborted) return
    if (round.attempted.size >= this.#init.maxAttemptsPerRound) return
    round.attempted.add(id)
    this.#queue = this.#queue.then(() => this.#catchUpWith(round, peer))
  }

  async #catchUpWith(round: Round, peer: PeerId): Promise<void> {
    if (this.#round !== round || this.#stop.signal.aborted) return
    if (round.succeeded.size >= this.#init.peersPerRound) return
    const id = peer.toString()
    const resume = round.resume.get(id)
    // Everything the peer had received when we first asked is below the cursor or on the pages still to come.
    const startedAt = resume?.startedAt ?? this.#clock()
    try {
      const signal = AbortSignal.any([AbortSignal.timeout(this.#init.catchUpTimeoutMs), this.#stop.signal])
      const result = await this.#c.sync.catchUp(peer, round.since, { signal, cursor: resume?.cursor })
      this.results.push(result)
      if (this.results.length > 100) this.results.shift()
      this.#log.info(
        { peer: id, pages: result.pages, received: result.received, accepted: result.accepted },
        'caught up with peer',
      )
      // Asked too often, or took all that the peer's trust allows one catch-up: the rest comes later from the
      // cursor, at most maxRetriesPerPeer times a round, so a stranger gives a round (1 + retries) budgets at most.
      if (result.rateLimited || result.budgetSpent) {
        round.resume.set(id, { cursor: result.cursor, startedAt })
        this.#retryLater(round, peer)
        return
      }
      round.resume.delete(id)
      if (!result.complete) return
      round.succeeded.add(id)
      // Everything this peer had received when we asked is ours now.
      await this.#c.watermark.raise(startedAt)
      if (round.succeeded.size >= this.#init.peersPerRound) this.#closeRound(round)
      else if (round.succeeded.size === 1) this.#later(() => this.#closeRound(round), this.#init.roundGraceMs)
    } catch (err) {
      if (!this.#stop.signal.aborted) this.#log.info({ err, peer: id }, 'catch-up with peer failed')
    }
  }

  #retryLater(round: Round, peer: PeerId): void {
    const id = peer.toString()
    const n = round.retries.get(id) ?? 0
    if (n >= this.#init.maxRetriesPerPeer) return
    round.retries.set(id, n + 1)
    this.#later(() => {
      round.attempted.delete(id)
      this.#enqueue(peer)
    }, this.#init.retryDelayMs)
  }

  #later(fn: () => void, ms: number): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer)
      fn()
    }, ms)
    timer.unref()
    this.#timers.add(timer)
  }

  #closeRound(round: Round): void {
    if (this.#round !== round) return
    this.#round = undefined
    this.#log.debug({ peers: [...round.succeeded] }, 'catch-up round complete')
  }

  async #beat(): Promise<void> {
    if (this.#round !== undefined) return
    if (this.#c.libp2p.getConnections().length === 0) return
    try {
      await this.#c.watermark.raise(this.#clock())
    } catch (err) {
      this.#log.warn({ err }, 'cannot persist the sync watermark')
    }
  }
}

export function catchUpService(
  init: Partial<CatchUpServiceInit> = {},
): (components: CatchUpServiceComponents) => CatchUpService {
  const merged: CatchUpServiceInit = {
    ...DEFAULTS,
    ...(Object.fromEntries(
      Object.entries(init).filter(([, v]) => v !== undefined),
    ) as Partial<CatchUpServiceInit>),
  }
  return (components) => new CatchUpService(merged, components)
}
