import { parseIndicator, type Indicator } from '../../protocol/indicator.ts'
import {
  decideBlock,
  type BlockPolicy,
  type BlockVerdict,
  type LocalDetection,
  type PeerReport,
} from './decide-block.ts'

/** A peer report as stored: trust is looked up when the indicator is weighed, so it is always current. */
export type StoredReport = Omit<PeerReport, 'trust'> & {
  /**
   * A blocklist summary's restatement standing in for an alert of this reporter's we never received. The alert
   * itself always outranks it, whichever is newer; a newer stand-in replaces an older one.
   */
  standIn?: boolean
}

/**
 * A stand-in that restates one this reporter's summary gave us less than this long ago, with about the same
 * confidence, is not weighed again. Members send their summary every interval while their list changes, so
 * during an attack N members' N summaries a minute each re-weighed every entry: a seventh of a 50-node network's
 * CPU, in bursts. The held stand-in keeps its time, so it is weighed afresh (its decay, the block's renewal) at
 * least this often while the reporter keeps restating it.
 */
export const STAND_IN_REWEIGH_MS = 10 * 60_000
/** how far a restated stand-in's confidence may drift (scores decay between summaries) and still be a repeat */
export const STAND_IN_CONFIDENCE_DRIFT = 0.05

export interface EvidenceBookInit {
  policy: BlockPolicy
  /** indicators with evidence kept in memory; the least recently updated is evicted first */
  maxIndicators: number
  /** peer reports kept per indicator (one per reporter) */
  maxReportsPerIndicator: number
  /** local detections kept per indicator */
  maxLocalPerIndicator: number
}

export interface EvidenceBookComponents<R> {
  /** what the verdict does: for the Blocklist, `applyEvidence` */
  apply: (value: string, verdict: BlockVerdict) => Promise<R>
  /** current trust in a peer, 0..1 */
  trustOf: (peerId: string) => number
  /** false for indicators that must not even be weighed (allowlisted, too broad); counted by the caller */
  admits: (indicator: Indicator) => boolean
  clock: () => number
}

export interface EvidenceBookStats {
  indicators: number
  reports: number
  evictedIndicators: number
  evictedReports: number
  notAdmitted: number
  /** stand-ins that repeated a recent one and were not weighed again (`STAND_IN_REWEIGH_MS`) */
  repeatedStandIns: number
}

interface Book {
  local: LocalDetection[]
  /** by reporter: one voice each, its latest report */
  reports: Map<string, StoredReport>
}

/**
 * Recent evidence per indicator, bounded, feeding decideBlock. Every new report re-weighs its indicator and
 * hands the verdict to `apply`; `reporterTrustChanged` re-weighs every indicator a peer has spoken about, so
 * a block that rested on a peer now known to lie is reconsidered at once.
 *
 * Bounds: the least recently updated indicator goes first when `maxIndicators` is reached. When an indicator's
 * reports are full, the report of the least trusted reporter goes (the oldest among equals), so a flood of
 * fresh identities can only push out each other, never the trusted reports that matter.
 */
export class EvidenceBook<R> {
  readonly #init: EvidenceBookInit
  readonly #c: EvidenceBookComponents<R>
  readonly #books = new Map<string, Book>()
  /** peer -> indicators it has a report on */
  readonly #byReporter = new Map<string, Set<string>>()
  #reports = 0
  #evictedIndicators = 0
  #evictedReports = 0
  #notAdmitted = 0
  #repeatedStandIns = 0

  constructor(init: EvidenceBookInit, components: EvidenceBookComponents<R>) {
    this.#init = init
    this.#c = components
  }

  /** Canonical indicator, or undefined (counted) when it must not be weighed. Throws for bad text. */
  #admit(indicator: string): string | undefined {
    const parsed = parseIndicator(indicator)
    if (!this.#c.admits(parsed)) {
      this.#notAdmitted++
      return undefined
    }
    return parsed.canonical
  }

  #book(value: string): Book {
    let book = this.#books.get(value)
    if (book !== undefined) {
      // most recently updated last, so the first key is the one to evict
      this.#books.delete(value)
    } else {
      book = { local: [], reports: new Map() }
      while (this.#books.size >= this.#init.maxIndicators) this.#evictIndicator()
    }
    this.#books.set(value, book)
    return book
  }

  #evictIndicator(): void {
    const [value, book] = this.#books.entries().next().value as [string, Book]
    this.#forget(value, book)
    this.#evictedIndicators++
  }

  #forget(value: string, book: Book): void {
    for (const reporter of book.reports.keys()) this.#unindex(reporter, value)
    this.#reports -= book.reports.size
    this.#books.delete(value)
  }

  #unindex(reporter: string, value: string): void {
    const set = this.#byReporter.get(reporter)
    set?.delete(value)
    if (set?.size === 0) this.#byReporter.delete(reporter)
  }

  /** Records a peer's report and re-weighs the indicator. Undefined when the indicator is not admitted. */
  /** Records a peer's report; with `weigh` (default) the indicator is re-weighed and the verdict applied. */
  async addReport(indicator: string, report: StoredReport, weigh = true): Promise<R | undefined> {
    const value = this.#admit(indicator)
    if (value === undefined) return undefined
    const book = this.#book(value)
    const prior = book.reports.get(report.reporter)
    if (isRepeatedStandIn(prior, report)) {
      this.#repeatedStandIns++
      return undefined
    }
    const outranked =
      prior !== undefined &&
      (report.standIn === true
        ? prior.standIn !== true || prior.at > report.at
        : prior.standIn !== true && prior.at > report.at)
    if (outranked) return weigh ? this.reevaluate(value) : undefined
    if (prior === undefined) {
      if (book.reports.size >= this.#init.maxReportsPerIndicator) this.#evictReport(value, book)
      this.#reports++
      let set = this.#byReporter.get(report.reporter)
      if (set === undefined) this.#byReporter.set(report.reporter, (set = new Set()))
      set.add(value)
    }
    book.reports.delete(report.reporter)
    book.reports.set(report.reporter, { ...report })
    return weigh ? this.reevaluate(value) : undefined
  }

  #evictReport(value: string, book: Book): void {
    let victim: StoredReport | undefined
    let victimTrust = Infinity
    for (const r of book.reports.values()) {
      const trust = this.#c.trustOf(r.reporter)
      if (trust < victimTrust || (trust === victimTrust && victim !== undefined && r.at < victim.at)) {
        victim = r
        victimTrust = trust
      }
    }
    if (victim === undefined) return
    book.reports.delete(victim.reporter)
    this.#unindex(victim.reporter, value)
    this.#reports--
    this.#evictedReports++
  }

  /**
   * Records one of our own detections. With `weigh` (default) the indicator is re-weighed too; the Blocklist
   * records local decisions it has already acted on without it.
   */
  async addLocal(indicator: string, detection: LocalDetection, weigh = true): Promise<R | undefined> {
    const value = this.#admit(indicator)
    if (value === undefined) return undefined
    const book = this.#book(value)
    book.local.push({ ...detection })
    if (book.local.length > this.#init.maxLocalPerIndicator) book.local.shift()
    return weigh ? this.reevaluate(value) : undefined
  }

  /**
   * Whether `reporter`'s own alert on the indicator is held and still counts (not past the policy's maximum age):
   * then a summary restating it adds nothing. Answers without weighing, for each entry of each summary.
   */
  hasAlertReport(indicator: string, reporter: string): boolean {
    const report = this.#books.get(parseIndicator(indicator).canonical)?.reports.get(reporter)
    return (
      report !== undefined &&
      report.standIn !== true &&
      report.at >= this.#c.clock() - this.#init.policy.maxAgeMs
    )
  }

  /** The verdict on the evidence held now, without acting on it (for "why is this blocked" pages). */
  weigh(indicator: string): BlockVerdict | undefined {
    const value = parseIndicator(indicator).canonical
    const book = this.#books.get(value)
    if (book === undefined) return undefined
    const now = this.#c.clock()
    this.#prune(value, book, now)
    if (!this.#books.has(value)) return undefined
    const reports: PeerReport[] = []
    for (const r of book.reports.values()) reports.push({ ...r, trust: this.#c.trustOf(r.reporter) })
    return decideBlock({ local: book.local, reports }, this.#init.policy, now)
  }

  /** Re-weighs one indicator and applies the verdict; undefined when no evidence is held for it. */
  async reevaluate(indicator: string): Promise<R | undefined> {
    const verdict = this.weigh(indicator)
    return verdict === undefined ? undefined : this.#c.apply(parseIndicator(indicator).canonical, verdict)
  }

  /** Re-weighs every indicator the peer has a report on; call when its trust changes. Returns how many. */
  async reporterTrustChanged(peerId: string): Promise<number> {
    const values = [...(this.#byReporter.get(peerId) ?? [])]
    for (const value of values) await this.reevaluate(value)
    return values.length
  }

  /** Drops evidence past the policy's maximum age, and the indicator when nothing is left. */
  #prune(value: string, book: Book, now: number): void {
    const oldest = now - this.#init.policy.maxAgeMs
    book.local = book.local.filter((d) => d.at >= oldest)
    for (const [reporter, r] of book.reports) {
      if (r.at >= oldest) continue
      book.reports.delete(reporter)
      this.#unindex(reporter, value)
      this.#reports--
    }
    if (book.local.length === 0 && book.reports.size === 0) this.#books.delete(value)
  }

  /** Forgets everything about an indicator (e.g. after an admin unblocks it for good). */
  forget(indicator: string): boolean {
    const value = parseIndicator(indicator).canonical
    const book = this.#books.get(value)
    if (book === undefined) return false
    this.#forget(value, book)
    return true
  }

  stats(): EvidenceBookStats {
    return {
      indicators: this.#books.size,
      reports: this.#reports,
      evictedIndicators: this.#evictedIndicators,
      evictedReports: this.#evictedReports,
      notAdmitted: this.#notAdmitted,
      repeatedStandIns: this.#repeatedStandIns,
    }
  }
}

/** whether `report` only restates the stand-in `prior`, recently and with about the same confidence */
function isRepeatedStandIn(prior: StoredReport | undefined, report: StoredReport): boolean {
  return (
    prior !== undefined &&
    prior.standIn === true &&
    report.standIn === true &&
    prior.scenario === report.scenario &&
    prior.severity === report.severity &&
    Math.abs(prior.confidence - report.confidence) <= STAND_IN_CONFIDENCE_DRIFT &&
    report.at >= prior.at &&
    report.at - prior.at < STAND_IN_REWEIGH_MS
  )
}
