import type { Logger } from '../logging/logger.ts'
import type { EvidenceKind } from './evidence.ts'
import { MAX_PEER_ID_LENGTH, type EvidenceDetail, type ReputationBook } from './reputation-book.ts'

/** A peer's alert as the tracker needs it; `reporter` is the sender's peer id string. */
export interface PeerAlert {
  alertId: string
  reporter: string
  /** canonical indicator text (`protocol/indicator.ts`); matched exactly */
  indicator: string
  scenario: string
  receivedAt: number
  expiresAt: number
}

export interface CorroborationTrackerInit {
  /** how long a peer's alert may precede the evidence that corroborates it */
  windowBeforeMs: number
  /**
   * How long after our own detection a peer's alert on the same indicator still earns credit. 0 by default:
   * this node publishes its detections, so a peer that merely echoes them back would otherwise farm trust for
   * free. Raise it only if local detections are not published.
   */
  echoGraceMs: number
  /** reporters at or above this trust corroborate others */
  trustedThreshold: number
  /** pending alerts kept in all; beyond it the oldest are forgotten without evidence */
  maxPending: number
  /** pending alerts kept per indicator, so one flooded address cannot push out everything else */
  maxPerIndicator: number
  /** alert ids whose admin verdict is remembered, so a verdict counts once */
  maxJudged: number
  /** how often `start()` sweeps expired alerts; 0 leaves sweeping to the caller */
  sweepIntervalMs: number
}

export interface CorroborationTrackerComponents {
  book: ReputationBook
  clock?: () => number
  logger?: Logger
}

export interface CorroborationStats {
  pending: number
  /** malformed or already expired inputs */
  skipped: number
  /** forgotten to respect the bounds */
  dropped: number
  ownDetector: number
  trustedPeer: number
  neverCorroborated: number
}

export class UnknownAlertError extends Error {
  override name = 'UnknownAlertError'
}

export class InvalidCorroborationTrackerInitError extends Error {
  override name = 'InvalidCorroborationTrackerInitError'
}

type Verdict = 'confirmed' | 'false' | 'allowlisted'

interface Pending extends PeerAlert {
  ownCredited: boolean
  trustedCredited: boolean
  verdict?: Verdict
}

const HOUR = 3600 * 1000

const DEFAULTS: CorroborationTrackerInit = {
  windowBeforeMs: 24 * HOUR,
  echoGraceMs: 0,
  trustedThreshold: 0.7,
  maxPending: 100_000,
  maxPerIndicator: 256,
  maxJudged: 10_000,
  sweepIntervalMs: 60_000,
}

const MAX_FIELD_LENGTH = 256

/**
 * Turns what happens to peers' alerts into reputation evidence. Credit only flows to alerts that came
 * *before* the evidence (our own detection, a trusted peer's alert): being first is what an echo cannot fake.
 * A reporter is credited at most once per corroborating event however many alerts it sent about the address.
 */
export class CorroborationTracker {
  readonly #init: CorroborationTrackerInit
  readonly #book: ReputationBook
  readonly #clock: () => number
  readonly #log?: Logger
  /** insertion order is arrival order, so the front is the oldest */
  readonly #byId = new Map<string, Pending>()
  readonly #byIndicator = new Map<string, Pending[]>()
  /** last local detection per indicator, for `echoGraceMs` */
  readonly #detections = new Map<string, number>()
  readonly #judged = new Map<string, Verdict>()
  #timer?: NodeJS.Timeout
  readonly #stats: Omit<CorroborationStats, 'pending'> = {
    skipped: 0,
    dropped: 0,
    ownDetector: 0,
    trustedPeer: 0,
    neverCorroborated: 0,
  }

  constructor(init: CorroborationTrackerInit, components: CorroborationTrackerComponents) {
    for (const k of ['maxPending', 'maxPerIndicator', 'maxJudged'] as const) {
      if (!Number.isSafeInteger(init[k]) || init[k] <= 0) {
        throw new InvalidCorroborationTrackerInitError(`${k} must be a positive integer, got ${init[k]}`)
      }
    }
    for (const k of ['windowBeforeMs', 'echoGraceMs', 'sweepIntervalMs'] as const) {
      if (!Number.isFinite(init[k]) || init[k] < 0) {
        throw new InvalidCorroborationTrackerInitError(`${k} must be a non-negative number, got ${init[k]}`)
      }
    }
    if (!(init.trustedThreshold > 0 && init.trustedThreshold <= 1)) {
      throw new InvalidCorroborationTrackerInitError(
        `trustedThreshold must be in (0, 1], got ${init.trustedThreshold}`,
      )
    }
    this.#init = init
    this.#book = components.book
    this.#clock = components.clock ?? Date.now
    this.#log = components.logger?.child({ component: 'corroboration' })
  }

  start(): void {
    if (this.#init.sweepIntervalMs === 0 || this.#timer !== undefined) return
    this.#timer = setInterval(() => this.sweep(), this.#init.sweepIntervalMs)
    this.#timer.unref?.()
  }

  stop(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
  }

  stats(): CorroborationStats {
    return { pending: this.#byId.size, ...this.#stats }
  }

  /**
   * A peer's alert was accepted. Returns false (and counts it) if it is malformed, expired or already known.
   * If the reporter is trusted, it corroborates earlier alerts of other reporters on the same indicator.
   */
  onPeerAlert(alert: PeerAlert): boolean {
    if (!isPeerAlert(alert) || alert.expiresAt <= alert.receivedAt || this.#byId.has(alert.alertId)) {
      this.#stats.skipped++
      return false
    }
    const pending: Pending = { ...alert, ownCredited: false, trustedCredited: false }
    const detectedAt = this.#detections.get(alert.indicator)
    if (detectedAt !== undefined && this.#withinEchoGrace(alert.receivedAt, detectedAt)) {
      pending.ownCredited = true
      const detail = { alertId: alert.alertId, indicator: alert.indicator }
      if (this.#record(alert.reporter, 'corroborated-by-own-detector', detail)) this.#stats.ownDetector++
    }
    if (this.#book.trust(alert.reporter) >= this.#init.trustedThreshold) {
      const from = alert.receivedAt - this.#init.windowBeforeMs
      this.#creditEach(
        alert.indicator,
        (p) =>
          !p.trustedCredited &&
          p.reporter !== alert.reporter &&
          p.receivedAt >= from &&
          p.receivedAt <= alert.receivedAt,
        (p) => (p.trustedCredited = true),
        'corroborated-by-trusted-peer',
        `by ${alert.reporter}`,
      )
    }
    this.#add(pending)
    return true
  }

  /**
   * This node's own detector decided against `indicator` at `time` (when the decision was made, which is when
   * our alert went out). Credits every reporter whose pending alert on it arrived in the window; returns how
   * many reporters were credited.
   */
  onLocalDetection(indicator: string, time: number = this.#clock()): number {
    if (typeof indicator !== 'string' || !Number.isFinite(time)) {
      this.#stats.skipped++
      return 0
    }
    if (this.#init.echoGraceMs > 0) {
      this.#detections.delete(indicator)
      this.#detections.set(indicator, time)
      if (this.#detections.size > this.#init.maxPending)
        this.#detections.delete(first(this.#detections.keys()))
    }
    const from = time - this.#init.windowBeforeMs
    const to = time + this.#init.echoGraceMs
    return this.#creditEach(
      indicator,
      (p) => !p.ownCredited && p.receivedAt >= from && p.receivedAt <= to,
      (p) => (p.ownCredited = true),
      'corroborated-by-own-detector',
    )
  }

  /**
   * `reporter` reported an address on our allowlist. With an `alertId` it counts once per alert, and the alert
   * is not also charged as never corroborated. Returns whether evidence was recorded. Call it instead of
   * `onPeerAlert` for such alerts, so a trusted peer's mistake does not vouch for others' reports of the address.
   */
  onAllowlistedReport(reporter: string, detail: { alertId?: string; indicator?: string } = {}): boolean {
    const { alertId } = detail
    const p = alertId !== undefined ? this.#byId.get(alertId) : undefined
    if (alertId !== undefined && (this.#judged.has(alertId) || p?.verdict !== undefined)) return false
    const indicator = detail.indicator ?? p?.indicator
    const recorded = this.#record(reporter, 'reported-allowlisted-address', {
      ...(alertId !== undefined ? { alertId } : {}),
      ...(indicator !== undefined ? { indicator } : {}),
    })
    if (recorded && alertId !== undefined) this.#judge(alertId, 'allowlisted', p)
    return recorded
  }

  /**
   * An admin says the alert was wrong. Alerts no longer pending (swept, or from before a restart) need
   * `known.reporter`, which the caller has from the alert store. Counts once per alert; returns whether
   * evidence was recorded. Throws UnknownAlertError when the reporter cannot be known.
   */
  markFalse(alertId: string, known?: { reporter: string; indicator?: string }): boolean {
    return this.#verdict(alertId, 'false', 'marked-false-by-admin', known)
  }

  /** An admin says the alert was right. Same rules as `markFalse`. */
  confirm(alertId: string, known?: { reporter: string; indicator?: string }): boolean {
    return this.#verdict(alertId, 'confirmed', 'confirmed-by-admin', known)
  }

  /**
   * Forgets alerts that have expired, charging their reporters never-corroborated when nothing (our detector,
   * a trusted peer, an admin) ever backed them and no other verdict was given. Returns how many were charged.
   */
  sweep(now: number = this.#clock()): number {
    let charged = 0
    for (const p of [...this.#byId.values()]) {
      if (p.expiresAt > now) continue
      this.#remove(p)
      if (p.ownCredited || p.trustedCredited || p.verdict !== undefined) continue
      if (!this.#record(p.reporter, 'never-corroborated', { alertId: p.alertId, indicator: p.indicator }))
        continue
      this.#stats.neverCorroborated++
      charged++
    }
    for (const [indicator, at] of this.#detections) {
      if (at + this.#init.echoGraceMs < now) this.#detections.delete(indicator)
    }
    return charged
  }

  #verdict(
    alertId: string,
    verdict: 'confirmed' | 'false',
    kind: 'confirmed-by-admin' | 'marked-false-by-admin',
    known?: { reporter: string; indicator?: string },
  ): boolean {
    const p = this.#byId.get(alertId)
    if (p === undefined && known?.reporter === undefined) {
      throw new UnknownAlertError(`alert ${alertId} is not pending; pass its reporter`)
    }
    if (this.#judged.has(alertId) || p?.verdict !== undefined) return false
    const reporter = p?.reporter ?? (known?.reporter as string)
    const indicator = p?.indicator ?? known?.indicator
    // an admin's input is checked by the book (InvalidPeerIdError) and the error reaches the admin
    this.#book.record(reporter, kind, { alertId, ...(indicator !== undefined ? { indicator } : {}) })
    this.#judge(alertId, verdict, p)
    return true
  }

  #judge(alertId: string, verdict: Verdict, p: Pending | undefined): void {
    if (p !== undefined) p.verdict = verdict
    this.#judged.set(alertId, verdict)
    if (this.#judged.size > this.#init.maxJudged) this.#judged.delete(first(this.#judged.keys()))
  }

  /** Credits each reporter with a matching, unjudged-false pending alert once, marking all its matches. */
  #creditEach(
    indicator: string,
    matches: (p: Pending) => boolean,
    mark: (p: Pending) => void,
    kind: 'corroborated-by-own-detector' | 'corroborated-by-trusted-peer',
    note?: string,
  ): number {
    const list = this.#byIndicator.get(indicator)
    if (list === undefined) return 0
    const seen = new Set<string>()
    let credited = 0
    for (const p of list) {
      if (p.verdict === 'false' || p.verdict === 'allowlisted' || !matches(p)) continue
      mark(p)
      if (seen.has(p.reporter)) continue
      seen.add(p.reporter)
      const detail = { alertId: p.alertId, indicator: p.indicator, ...(note !== undefined ? { note } : {}) }
      if (this.#record(p.reporter, kind, detail)) credited++
    }
    if (kind === 'corroborated-by-own-detector') this.#stats.ownDetector += credited
    else this.#stats.trustedPeer += credited
    return credited
  }

  /** Evidence from network input must never throw into gossip handling or the sweep timer. */
  #record(reporter: string, kind: EvidenceKind, detail: EvidenceDetail): boolean {
    try {
      this.#book.record(reporter, kind, detail)
      return true
    } catch (err) {
      this.#stats.skipped++
      this.#log?.warn({ err, reporter, kind }, 'could not record reputation evidence')
      return false
    }
  }

  #withinEchoGrace(receivedAt: number, detectedAt: number): boolean {
    return receivedAt >= detectedAt && receivedAt - detectedAt <= this.#init.echoGraceMs
  }

  #add(p: Pending): void {
    this.#byId.set(p.alertId, p)
    let list = this.#byIndicator.get(p.indicator)
    if (list === undefined) {
      list = []
      this.#byIndicator.set(p.indicator, list)
    }
    list.push(p)
    if (list.length > this.#init.maxPerIndicator) this.#drop(list[0])
    if (this.#byId.size > this.#init.maxPending) this.#drop(first(this.#byId.values()))
  }

  #drop(p: Pending): void {
    this.#remove(p)
    this.#stats.dropped++
  }

  #remove(p: Pending): void {
    this.#byId.delete(p.alertId)
    const list = this.#byIndicator.get(p.indicator)
    if (list === undefined) return
    const i = list.indexOf(p)
    if (i >= 0) list.splice(i, 1)
    if (list.length === 0) this.#byIndicator.delete(p.indicator)
  }
}

export function corroborationTracker(
  init: Partial<CorroborationTrackerInit> = {},
): (components: CorroborationTrackerComponents) => CorroborationTracker {
  const merged = {
    ...DEFAULTS,
    ...Object.fromEntries(Object.entries(init).filter(([, v]) => v !== undefined)),
  } as CorroborationTrackerInit
  return (components) => new CorroborationTracker(merged, components)
}

function isPeerAlert(a: PeerAlert): boolean {
  return (
    typeof a === 'object' &&
    a !== null &&
    isField(a.alertId) &&
    isField(a.reporter) &&
    a.reporter.length <= MAX_PEER_ID_LENGTH &&
    isField(a.indicator) &&
    typeof a.scenario === 'string' &&
    Number.isFinite(a.receivedAt) &&
    Number.isFinite(a.expiresAt)
  )
}

function isField(s: unknown): s is string {
  return typeof s === 'string' && s.length > 0 && s.length <= MAX_FIELD_LENGTH
}

function first<T>(it: IterableIterator<T>): T {
  return it.next().value as T
}
