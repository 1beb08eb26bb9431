import type { AbortOptions, Connection, PeerId, Stream } from '@libp2p/interface'
import { isMultiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { lpStream } from '@libp2p/utils'
import {
  ALERTS_SYNC_PROTOCOL,
  decodeSyncRequest,
  decodeSyncResponse,
  encodeSyncRequest,
  encodeSyncResponse,
  isSyncError,
  MAX_SYNC_PAGE_LIMIT,
  MalformedSyncMessageError,
  type SyncErrorCode,
  type SyncPage,
  type SyncRequest,
  type SyncResponse,
} from '../../protocol/messages/sync-page.ts'
import type { Validation, ValidationReason } from '../../protocol/validation/validate-envelope.ts'
import type { AlertOrigin, AlertStore } from '../alerts/alert-store.ts'
import { SenderRateLimiter } from '../alerts/sender-rate-limiter.ts'
import type { Logger } from '../logging/logger.ts'
import { stripUndefined } from '../service-init.ts'

export interface AlertSyncInit {
  /** alerts per page asked for (and most served), at most MAX_SYNC_PAGE_LIMIT */
  pageLimit: number
  /**
   * pages one catch-up fetches from a peer of full trust before it stops; a peer's budget is
   * `max(minPages, maxPages × trust²)` pages of `pageLimit` alerts (`catchUpBudget`)
   */
  maxPages: number
  /** pages any peer may serve one catch-up, whatever its trust */
  minPages: number
  /** a request frame larger than this is refused unread */
  maxRequestBytes: number
  /** a response frame larger than this is refused unread; the server keeps its pages under it */
  maxResponseBytes: number
  /** per page for the client, per request for the server */
  requestTimeoutMs: number
  /** requests served to one peer per minute; more are answered `rate_limited` */
  requestsPerPeerPerMinute: number
  /** index entries the server reads per page, so long runs of expired history cost bounded work */
  maxScanPerPage: number
  /** concurrent catch-up streams one connection may open to us */
  maxInboundStreams: number
}

/** What the service needs of libp2p: serving a protocol and opening streams. */
export interface SyncLibp2p {
  handle(
    protocol: string,
    handler: (stream: Stream, connection: Connection) => void | Promise<void>,
    options?: { maxInboundStreams?: number; maxOutboundStreams?: number },
  ): Promise<void>
  unhandle(protocol: string): Promise<void>
  dialProtocol(peer: PeerId | Multiaddr, protocol: string, options?: AbortOptions): Promise<Stream>
}

export interface AlertSyncComponents {
  libp2p: SyncLibp2p
  alertStore: AlertStore
  /** the alert service's intake: every fetched alert is judged exactly like one from gossip */
  intake: (bytes: Uint8Array, origin: AlertOrigin) => Promise<Validation>
  /**
   * current trust in a serving peer (peer id text), 0..1: it sizes what one catch-up takes from that peer.
   * Without it every peer is a stranger (`minPages`).
   */
  trustOf?: (peerId: string) => number
  logger: Logger
  clock?: () => number
}

export interface CatchUpResult {
  peer: string
  pages: number
  received: number
  accepted: number
  rejected: Partial<Record<ValidationReason, number>>
  ignored: Partial<Record<ValidationReason, number>>
  /** false when the page budget ran out or the peer refused us before it said it had no more */
  complete: boolean
  /** the peer's trust-scaled budget (pages, alerts) ran out before it said it had no more */
  budgetSpent: boolean
  /** the peer answered `rate_limited`: we asked more often than it serves one peer a minute */
  rateLimited: boolean
  /** where a later catch-up from this peer resumes when this one was not complete (the last page's cursor) */
  cursor?: string
}

export interface AlertSyncCounts {
  requestsServed: number
  alertsServed: number
  refused: Partial<Record<SyncErrorCode, number>>
  /** inbound streams that broke (timeout, oversize frame, reset) before an answer could be sent */
  failedStreams: number
}

/** The peer answered with an error code, or with something that is not a page. */
export class SyncRequestError extends Error {
  override name = 'SyncRequestError'
  readonly code: SyncErrorCode | 'malformed_response' | 'protocol_violation'
  constructor(code: SyncRequestError['code'], message: string) {
    super(message)
    this.code = code
  }
}

export class SyncNotStartedError extends Error {
  override name = 'SyncNotStartedError'
}

const DEFAULTS: AlertSyncInit = {
  pageLimit: MAX_SYNC_PAGE_LIMIT,
  maxPages: 200,
  minPages: 2,
  maxRequestBytes: 1024,
  maxResponseBytes: 2 * 1024 * 1024,
  requestTimeoutMs: 10_000,
  requestsPerPeerPerMinute: 120,
  maxScanPerPage: 2000,
  maxInboundStreams: 2,
}

/**
 * What one catch-up takes from a peer of this trust: alerts fetched by catch-up skip the per-sender rate (they are
 * a backlog we asked for), so the serving peer's trust is what bounds them. Squared, so that a fresh identity
 * (trust about 0.04) gets `minPages` (1,000 alerts) while a trusted member (0.6 and up) gets most of `maxPages`.
 * An honest server with more to give is asked again from where it stopped (`CatchUpService`).
 */
export function catchUpBudget(
  trust: number,
  init: Pick<AlertSyncInit, 'maxPages' | 'minPages' | 'pageLimit'>,
): { pages: number; alerts: number } {
  const t = Math.min(1, Math.max(0, Number.isFinite(trust) ? trust : 0))
  const pages = Math.max(Math.min(init.minPages, init.maxPages), Math.floor(init.maxPages * t * t))
  return { pages, alerts: pages * Math.min(init.pageLimit, MAX_SYNC_PAGE_LIMIT) }
}

/** room for the CBOR map, keys and cursor around the alerts, and each alert's byte-string header */
const PAGE_OVERHEAD_BYTES = 1024
const PER_ALERT_OVERHEAD_BYTES = 9

/**
 * Serves this node's unexpired alerts to peers that were away, and fetches theirs: request/response pages
 * over `/shieldwall/alerts-sync/1.0.0`. The server trusts nothing in a request beyond its schema and bounds;
 * the client trusts nothing in a page, since each alert goes through the same intake as gossip.
 */
export class AlertSync {
  readonly #init: AlertSyncInit
  readonly #c: AlertSyncComponents
  readonly #clock: () => number
  readonly #log: Logger
  readonly #peerRequests: SenderRateLimiter
  #started = false
  readonly counts: AlertSyncCounts = { requestsServed: 0, alertsServed: 0, refused: {}, failedStreams: 0 }

  constructor(init: AlertSyncInit, components: AlertSyncComponents) {
    this.#init = init
    this.#c = components
    this.#clock = components.clock ?? Date.now
    this.#log = components.logger.child({ component: 'alert-sync' })
    this.#peerRequests = new SenderRateLimiter(init.requestsPerPeerPerMinute)
  }

  async start(): Promise<void> {
    await this.#c.libp2p.handle(
      ALERTS_SYNC_PROTOCOL,
      (stream, connection) => this.#serve(stream, connection),
      {
        maxInboundStreams: this.#init.maxInboundStreams,
      },
    )
    this.#started = true
  }

  async stop(): Promise<void> {
    this.#started = false
    try {
      await this.#c.libp2p.unhandle(ALERTS_SYNC_PROTOCOL)
    } catch {
      // libp2p may already be stopping
    }
  }

  /** One page from one peer. Throws SyncRequestError on an error answer or a malformed one. */
  async fetchPage(
    peer: PeerId | Multiaddr,
    request: SyncRequest,
    options: AbortOptions = {},
  ): Promise<SyncPage> {
    if (!this.#started) throw new SyncNotStartedError('alert sync is not started')
    const signal = anySignal(AbortSignal.timeout(this.#init.requestTimeoutMs), options.signal)
    const stream = await this.#c.libp2p.dialProtocol(peer, ALERTS_SYNC_PROTOCOL, { signal })
    try {
      const lp = lpStream(stream, {
        maxDataLength: this.#init.maxResponseBytes,
        maxBufferSize: this.#init.maxResponseBytes + 16,
      })
      await lp.write(encodeSyncRequest(request), { signal })
      await stream.close({ signal })
      const frame = await lp.read({ signal })
      let response: SyncResponse
      try {
        response = decodeSyncResponse(frame.subarray())
      } catch (err) {
        throw new SyncRequestError('malformed_response', (err as Error).message)
      }
      if (isSyncError(response)) throw new SyncRequestError(response.error, response.message)
      if (response.alerts.length > request.limit) {
        throw new SyncRequestError(
          'protocol_violation',
          `${response.alerts.length} alerts in a page of at most ${request.limit}`,
        )
      }
      return response
    } catch (err) {
      stream.abort(err as Error)
      throw err
    }
  }

  /**
   * Pages through everything `peer` received since `since` (ms, the peer's clock) and hands each alert to
   * the intake, page by page so memory stays at one page. Stops when the peer's budget (`catchUpBudget`, by its
   * trust) is spent, or when the peer says we ask too often; either way `cursor` says where to resume
   * (`options.cursor`), since a peer's pages are in the order it received its alerts and what it receives
   * later comes after the cursor.
   */
  async catchUp(
    peer: PeerId | Multiaddr,
    since: number,
    options: AbortOptions & { cursor?: string } = {},
  ): Promise<CatchUpResult> {
    const result: CatchUpResult = {
      peer: peer.toString(),
      pages: 0,
      received: 0,
      accepted: 0,
      rejected: {},
      ignored: {},
      complete: false,
      budgetSpent: false,
      rateLimited: false,
    }
    let cursor = options.cursor
    const limit = Math.min(this.#init.pageLimit, MAX_SYNC_PAGE_LIMIT)
    const id = peerIdText(peer)
    const budget = catchUpBudget(id === undefined ? 0 : (this.#c.trustOf?.(id) ?? 0), this.#init)
    for (;;) {
      if (result.pages >= budget.pages || result.received >= budget.alerts) {
        result.budgetSpent = true
        break
      }
      options.signal?.throwIfAborted()
      // never more than the budget has left: fetchPage refuses a page longer than asked for
      const pageLimit = Math.min(limit, budget.alerts - result.received)
      let page: SyncPage
      try {
        page = await this.fetchPage(
          peer,
          { since: Math.max(0, Math.floor(since)), cursor, limit: pageLimit },
          options,
        )
      } catch (err) {
        if (!(err instanceof SyncRequestError && err.code === 'rate_limited')) throw err
        result.rateLimited = true
        break
      }
      result.pages++
      for (const bytes of page.alerts) {
        result.received++
        const verdict = await this.#c.intake(bytes, 'sync')
        if (verdict.action === 'accept') result.accepted++
        else {
          const bucket = verdict.action === 'reject' ? result.rejected : result.ignored
          bucket[verdict.reason] = (bucket[verdict.reason] ?? 0) + 1
        }
      }
      if (page.nextCursor === undefined) {
        result.complete = true
        break
      }
      // A cursor that does not move would page forever; the page budget bounds it anyway, but stop early.
      if (page.nextCursor === cursor) {
        throw new SyncRequestError('protocol_violation', 'the peer returned the same cursor twice')
      }
      cursor = page.nextCursor
    }
    if (!result.complete && cursor !== undefined) result.cursor = cursor
    this.#log.debug(result, 'caught up with peer')
    return result
  }

  async #serve(stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer.toString()
    const signal = AbortSignal.timeout(this.#init.requestTimeoutMs)
    try {
      const lp = lpStream(stream, {
        maxDataLength: this.#init.maxRequestBytes,
        maxBufferSize: this.#init.maxRequestBytes + 16,
      })
      let frame
      try {
        frame = await lp.read({ signal })
      } catch (err) {
        // Oversize or truncated frames cannot be answered in-protocol: the stream state is unknown.
        this.counts.failedStreams++
        this.#log.debug({ err, peer }, 'unreadable sync request')
        stream.abort(err as Error)
        return
      }
      const response = await this.#answer(peer, frame.subarray())
      await lp.write(encodeSyncResponse(response), { signal })
      await stream.close({ signal })
    } catch (err) {
      this.counts.failedStreams++
      this.#log.debug({ err, peer }, 'sync stream failed')
      stream.abort(err as Error)
    }
  }

  async #answer(peer: string, bytes: Uint8Array): Promise<SyncResponse> {
    const now = this.#clock()
    if (!this.#peerRequests.admit(peer, now)) {
      return this.#refuse(
        'rate_limited',
        `more than ${this.#init.requestsPerPeerPerMinute} requests a minute`,
      )
    }
    let request: SyncRequest
    try {
      request = decodeSyncRequest(bytes)
    } catch (err) {
      if (err instanceof MalformedSyncMessageError) return this.#refuse('malformed_request', err.message)
      throw err
    }
    try {
      const limit = Math.min(request.limit, this.#init.pageLimit, MAX_SYNC_PAGE_LIMIT)
      const page = await this.#c.alertStore.listSince(request.since, {
        limit,
        now,
        cursor: request.cursor,
        maxScan: Math.max(limit, this.#init.maxScanPerPage),
        maxBytes: this.#init.maxResponseBytes - PAGE_OVERHEAD_BYTES - PER_ALERT_OVERHEAD_BYTES * limit,
      })
      this.counts.requestsServed++
      this.counts.alertsServed += page.items.length
      return {
        alerts: page.items.map((a) => new Uint8Array(Buffer.from(a.envelope, 'base64'))),
        ...(page.nextCursor !== undefined ? { nextCursor: page.nextCursor } : {}),
      }
    } catch (err) {
      this.#log.error({ err, peer }, 'cannot serve a sync page')
      return this.#refuse('internal', 'the page could not be read')
    }
  }

  #refuse(code: SyncErrorCode, message: string): SyncResponse {
    this.counts.refused[code] = (this.counts.refused[code] ?? 0) + 1
    return { error: code, message: message.slice(0, 200) }
  }
}

export function alertSync(init: Partial<AlertSyncInit> = {}): (components: AlertSyncComponents) => AlertSync {
  const merged: AlertSyncInit = { ...DEFAULTS, ...stripUndefined(init) }
  return (components) => new AlertSync(merged, components)
}

function peerIdText(peer: PeerId | Multiaddr): string | undefined {
  return isMultiaddr(peer) ? peer.getComponents().findLast((c) => c.name === 'p2p')?.value : peer.toString()
}

function anySignal(a: AbortSignal, b: AbortSignal | undefined): AbortSignal {
  return b === undefined ? a : AbortSignal.any([a, b])
}
