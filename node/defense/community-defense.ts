import type { StoredAlert } from '../alerts/alert-store.ts'
import type { AlertService } from '../alerts/alert-service.ts'
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
  allowlistedReports: number
  summaryEntries: number
  errors: number
}

/**
 * The path from evidence to a block on this node: our own decisions block at once and corroborate the peers
 * who warned us; peers' alerts (live, caught up, or restated in summaries) are weighed by how far we trust
 * each reporter; a report on an allowlisted address costs its reporter trust and blocks nothing; a change in a
 * reporter's trust re-weighs everything it said.
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
    summaryEntries: 0,
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

  async onPeerAlert(alert: StoredAlert): Promise<void> {
    const reporter = this.#c.peerIdOfSender(alert.sender)
    if (this.#isAllowlisted(alert.indicator)) {
      // An attack claim about an address we know is ours, loopback or private is false by construction.
      this.counts.allowlistedReports++
      this.#c.tracker.onAllowlistedReport(reporter, { alertId: alert.id, indicator: alert.indicator })
      this.#log.info(
        { reporter, indicator: alert.indicator, alert: alert.id },
        'peer reported an allowlisted address',
      )
      return
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
  }

  async onSummary(reporter: string, body: BlocklistSummaryBody): Promise<void> {
    for (const entry of body.entries) {
      if (this.#isAllowlisted(entry.value)) {
        this.counts.allowlistedReports++
        this.#c.tracker.onAllowlistedReport(reporter, { indicator: entry.value })
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
    const entries = [...this.#c.blocklist.entries()]
      // manual entries are the admin's call about their own service; what we share is evidence
      .filter((e) => e.origin !== 'manual' && (this.#init.shareLocal || e.origin !== 'local'))
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
