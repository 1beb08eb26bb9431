import type { StoredAlert } from '../alerts/alert-store.ts'
import type { AlertService } from '../alerts/alert-service.ts'
import { nonRoutable, type Unshareable } from '../blocklist/allowlist.ts'
import type { Blocklist } from '../blocklist/blocklist.ts'
import type { StoredDecision } from '../decisions/decision-store.ts'
import type { DetectionService } from '../detect/detection-service.ts'
import type { Logger } from '../logging/logger.ts'
import type { CorroborationTracker } from '../reputation/corroboration-tracker.ts'
import type { ReputationBook } from '../reputation/reputation-book.ts'
import type { BlocklistSummaryService } from '../sync/blocklist-summaries.ts'
import type { BlocklistSummaryBody } from '../../protocol/messages/blocklist-summary.ts'

export interface CommunityDefenseInit {
  /**
   * A summary restates its sender's list without the alert behind each entry, so an entry counts for this
   * share of its score: it can tip a decision among trusted voices but never carries one alone.
   */
  summaryWeight: number
  /** entries in our own published summary, highest score first */
  maxSummaryEntries: number
  /** restate our own local blocks in summaries; off when the operator does not publish local detections */
  shareLocal: boolean
}

export interface CommunityDefenseComponents {
  blocklist: Blocklist
  book: ReputationBook
  tracker: CorroborationTracker
  alerts: AlertService
  detection: DetectionService
  summaries?: BlocklistSummaryService
  peerIdOfSender: (senderHex: string) => string
  logger: Logger
  clock?: () => number
}

const DEFAULTS: CommunityDefenseInit = { summaryWeight: 0.5, maxSummaryEntries: 1000, shareLocal: true }

export interface DefenseCounts {
  localDecisions: number
  peerAlerts: number
  /** peers' alerts and summary entries about public addresses only this node allowlists */
  allowlistedReports: number
  /** peers' alerts and summary entries about non-routable or too-broad indicators: ignored at no cost */
  nonRoutableReports: number
  summaryEntries: number
  /** entries left out of this node's own summaries because they must never leave it */
  unsharedSummaryEntries: number
  errors: number
}

/** What this node made of a peer's alert (the gossip verdict came before: this is the defense's own). */
export type PeerAlertOutcome =
  | { action: 'accept' }
  /**
   * `non-routable`/`too-broad`: about nobody's network but the sender's, no trust cost; `allowlisted`: a public
   * address only this node allowlists, the light `reported-allowlisted-address` evidence
   */
  | { action: 'ignore'; reason: Unshareable['reason'] }

/**
 * The path from evidence to a block on this node: our own decisions block at once and corroborate the peers
 * who warned us; peers' alerts (live, caught up, or restated in summaries) are weighed by how far we trust
 * each reporter; a report on a non-routable address is ignored at no cost, one on an address only we allowlist
 * blocks nothing and costs its reporter a little weight here; a change in a reporter's trust re-weighs
 * everything it said.
 */
export class CommunityDefense {
  readonly #init: CommunityDefenseInit
  readonly #c: CommunityDefenseComponents
  readonly #log: Logger
  readonly #unsubscribe: (() => void)[] = []
  readonly counts: DefenseCounts = {
    localDecisions: 0,
    peerAlerts: 0,
    allowlistedReports: 0,
    nonRoutableReports: 0,
    summaryEntries: 0,
    unsharedSummaryEntries: 0,
    errors: 0,
  }

  constructor(init: CommunityDefenseInit, components: CommunityDefenseComponents) {
    this.#init = init
    this.#c = components
    this.#log = components.logger.child({ component: 'defense' })
  }

  start(): void {
    const { detection, alerts, book, summaries, blocklist } = this.#c
    this.#unsubscribe.push(
      detection.onDecision((d) => this.#guard('local decision', () => this.onLocalDecision(d))),
      detection.onSighting((f) =>
        // our own half-way observation: one weak voice of ours, which peers' sightings can complete
        this.#guard('sighting', () =>
          blocklist.evidence.addLocal(f.ip, { confidence: f.score, scenario: f.scenario, at: f.last }),
        ),
      ),
      alerts.onAlert((a) => {
        if (a.origin !== 'local') this.#guard('peer alert', () => this.onPeerAlert(a))
      }),
      book.onChange((change) =>
        this.#guard('trust change', () => blocklist.evidence.reporterTrustChanged(change.peerId)),
      ),
    )
    if (summaries !== undefined) {
      summaries.setSource(() => this.#summarySource())
      this.#unsubscribe.push(
        summaries.onSummary((peer, body) => this.#guard('summary', () => this.onSummary(peer, body))),
      )
    }
  }

  stop(): void {
    for (const off of this.#unsubscribe.splice(0)) off()
  }

  async onLocalDecision(decision: StoredDecision): Promise<void> {
    this.counts.localDecisions++
    this.#c.tracker.onLocalDetection(decision.ip, decision.decidedAt)
    await this.#c.blocklist.applyLocal(decision)
  }

  async onPeerAlert(alert: StoredAlert): Promise<PeerAlertOutcome> {
    const reporter = this.#c.peerIdOfSender(alert.sender)
    const special = nonRoutable(alert.indicator)
    if (special !== undefined) {
      // A private or special-use address (or a /0) says something about the sender's own network, nothing about
      // ours: a node behind Docker NAT honestly sees every client as 172.17.0.1. No evidence either way.
      this.counts.nonRoutableReports++
      this.#log.debug(
        { reporter, indicator: alert.indicator, alert: alert.id, reason: special.reason },
        'peer alert about a non-routable indicator ignored',
      )
      return { action: 'ignore', reason: special.reason }
    }
    if (this.#isAllowlisted(alert.indicator)) {
      // A public address only we allowlist: never blocked here, and the reporter could not know (the light,
      // soft evidence of node/reputation/evidence.ts).
      this.counts.allowlistedReports++
      this.#c.tracker.onAllowlistedReport(reporter, { alertId: alert.id, indicator: alert.indicator })
      this.#log.info(
        { reporter, indicator: alert.indicator, alert: alert.id },
        'peer reported an allowlisted address',
      )
      return { action: 'ignore', reason: 'allowlisted' }
    }
    this.counts.peerAlerts++
    this.#c.tracker.onPeerAlert({
      alertId: alert.id,
      reporter,
      indicator: alert.indicator,
      scenario: alert.scenario,
      receivedAt: alert.receivedAt,
      expiresAt: alert.expiresAt,
    })
    await this.#c.blocklist.evidence.addReport(alert.indicator, {
      reporter,
      confidence: alert.confidence,
      scenario: alert.scenario,
      severity: alert.severity,
      at: Math.min(alert.lastSeen, alert.receivedAt),
    })
    return { action: 'accept' }
  }

  async onSummary(reporter: string, body: BlocklistSummaryBody): Promise<void> {
    for (const entry of body.entries) {
      if (nonRoutable(entry.value) !== undefined) {
        this.counts.nonRoutableReports++
        continue
      }
      if (this.#isAllowlisted(entry.value)) {
        // Not charged: a summary restates the sender's list every period, so charging each entry would charge
        // one honest mistake (already charged once with its alert) again and again.
        this.counts.allowlistedReports++
        continue
      }
      // One voice per reporter per indicator: a summary never adds to that reporter's own alert, it only
      // stands in for it when the alert never reached us (and a later alert replaces the stand-in).
      if (this.#c.blocklist.evidence.hasAlertReport(entry.value, reporter)) continue
      this.counts.summaryEntries++
      // Most entries restate blocks the alerts already made here: kept as evidence, weighed next time
      // something about the address changes. Every member restating every block it holds, each weighed on
      // arrival, was the burst of work that delayed alerts arriving beside it.
      await this.#c.blocklist.evidence.addReport(
        entry.value,
        {
          reporter,
          confidence: entry.score * this.#init.summaryWeight,
          scenario: entry.scenario,
          severity: 'medium',
          at: body.generatedAt,
          standIn: true,
        },
        !this.#c.blocklist.settled(entry.value),
      )
    }
  }

  /** An admin says a peer's alert was false: its reporter loses trust, and its evidence is re-weighed. */
  markAlert(alert: StoredAlert, verdict: 'false' | 'confirmed'): boolean {
    const reporter = this.#c.peerIdOfSender(alert.sender)
    const known = { reporter, indicator: alert.indicator }
    const recorded =
      verdict === 'false'
        ? this.#c.tracker.markFalse(alert.id, known)
        : this.#c.tracker.confirm(alert.id, known)
    return recorded
  }

  #isAllowlisted(indicator: string): boolean {
    try {
      return this.#c.blocklist.allowlist.overlaps(indicator).length > 0
    } catch {
      return false
    }
  }

  *#summarySource() {
    const { allowlist } = this.#c.blocklist
    const entries = [...this.#c.blocklist.entries()]
      // manual entries are the admin's call about their own service; what we share is evidence
      .filter((e) => e.origin !== 'manual' && (this.#init.shareLocal || e.origin !== 'local'))
      // a local block of a private address (allowPrivateRanges off) is ours to enforce, never to share
      .filter((e) => {
        if (allowlist.unshareable(e.value) === undefined) return true
        this.counts.unsharedSummaryEntries++
        return false
      })
      .sort((a, b) => b.score - a.score)
      .slice(0, this.#init.maxSummaryEntries)
    for (const e of entries)
      yield { value: e.value, score: e.score, scenario: e.scenario, expiresAt: e.expiresAt }
  }

  /** The promise, when `f` returns one, settles once it has: detection keeps a decision pending until then. */
  #guard(what: string, f: () => unknown): Promise<unknown> | undefined {
    try {
      const result = f()
      if (result instanceof Promise)
        return result.catch((err: unknown) => {
          this.counts.errors++
          this.#log.error({ err }, `${what} could not be weighed`)
        })
    } catch (err) {
      this.counts.errors++
      this.#log.error({ err }, `${what} could not be weighed`)
    }
  }
}

export function communityDefense(
  init: Partial<CommunityDefenseInit> = {},
): (components: CommunityDefenseComponents) => CommunityDefense {
  const merged = {
    ...DEFAULTS,
    ...Object.fromEntries(Object.entries(init).filter(([, v]) => v !== undefined)),
  }
  return (components) => new CommunityDefense(merged, components)
}
