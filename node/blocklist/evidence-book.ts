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

/**
 * Indicators whose every voice is below the trusted threshold may hold at most this share of the book. Identities
 * cost nothing, so without it a flood of fresh keys naming fresh addresses pushed out the one trusted report an
 * address had while the second was on its way (issue 15, finding 4).
 */
export const UNTRUSTED_INDICATOR_SHARE = 0.5
/**
 * The share of the book one reporter of full trust may occupy; a reporter's slots scale with its trust, so a
 * fresh identity holds a few hundredths of this.
 */
export const REPORTER_SLOT_SHARE = 0.25
/** slots any reporter may hold whatever its trust, so an honest newcomer is still heard on a few addresses */
export const MIN_REPORTER_SLOTS = 64

export interface EvidenceBookInit {
  policy: BlockPolicy
  /**
   * indicators with evidence kept in memory. When full, the least recently updated indicator with no trusted
   * voice and no local evidence goes first; one with such evidence only when there is nothing else.
   */
  maxIndicators: number
  /** peer reports kept per indicator (one per reporter) */
  maxReportsPerIndicator: number
  /** local detections kept per indicator */
  maxLocalPerIndicator: number
  /** share of `maxIndicators` untrusted-only indicators may hold (`UNTRUSTED_INDICATOR_SHARE`) */
  untrustedShare?: number
  /** share of `maxIndicators` one reporter may hold, times its trust (`REPORTER_SLOT_SHARE`) */
  reporterShare?: number
  /** slots every reporter may hold (`MIN_REPORTER_SLOTS`) */
  minReporterSlots?: number
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
  /** indicators with a trusted voice or local evidence (the rest are untrusted-only) */
  trustedIndicators: number
  evictedIndicators: number
  /** of those, indicators that had a trusted voice or local evidence (only when nothing else was left) */
  evictedTrustedIndicators: number
  evictedReports: number
  /** reports a reporter's own newer ones pushed out when it held all the slots its trust allows */
  evictedOverReporterSlots: number
  notAdmitted: number
  /** stand-ins that repeated a recent one and were not weighed again (`STAND_IN_REWEIGH_MS`) */
  repeatedStandIns: number
}

interface Book {
  local: LocalDetection[]
  /** by reporter: one voice each, its latest report */
  reports: Map<string, StoredReport>
  /** some local evidence or a reporter at or above the trusted threshold, when last classified */
  trusted: boolean
}

/**
 * Recent evidence per indicator, bounded, feeding decideBlock. Every new report re-weighs its indicator and
 * hands the verdict to `apply`; `reporterTrustChanged` re-weighs every indicator a peer has spoken about, so
 * a block that rested on a peer now known to lie is reconsidered at once.
 *
 * Bounds, all of them ordered by trust so that a flood of fresh identities can only push out each other, never
 * the trusted reports that matter:
 * - indicators live in two pools, each least recently updated first: those with a trusted voice or local
 *   evidence, and the untrusted-only ones, which may hold at most `untrustedShare` of `maxIndicators`. When the
 *   book is full an untrusted-only indicator goes first; a trusted one only when there is none left.
 * - one reporter holds at most `max(minReporterSlots, maxIndicators × reporterShare × trust)` reports; past that
 *   its own least recently updated report makes room for its new one.
 * - when an indicator's reports are full, the report of the least trusted reporter goes (the oldest among
 *   equals).
 */
export class EvidenceBook<R> {
  readonly #init: EvidenceBookInit
  readonly #c: EvidenceBookComponents<R>
  /** indicators with a trusted voice or local evidence, least recently updated first */
  readonly #trusted = new Map<string, Book>()
  /** indicators whose every voice is untrusted, least recently updated first */
  readonly #untrusted = new Map<string, Book>()
  /**
   * Where each pool's eviction goes on from. A Map keeps deleted entries as holes until it is rebuilt, and
   * `entries().next()` from the start steps over every one of them: evicting from the head of a pool of 50,000
   * cost about 70 µs an eviction. A live iterator never goes back: every entry before it was evicted, or moved
   * to the end when it was updated.
   */
  readonly #evictFrom = new Map<Map<string, Book>, Iterator<[string, Book]>>()
  /** peer -> indicators it has a report on, least recently updated first */
  readonly #byReporter = new Map<string, Set<string>>()
  readonly #maxUntrusted: number
  readonly #reporterShare: number
  readonly #minReporterSlots: number
  #reports = 0
  #evictedIndicators = 0
  #evictedTrustedIndicators = 0
  #evictedReports = 0
  #evictedOverReporterSlots = 0
  #notAdmitted = 0
  #repeatedStandIns = 0

  constructor(init: EvidenceBookInit, components: EvidenceBookComponents<R>) {
    this.#init = init
    this.#c = components
    this.#maxUntrusted = Math.max(
      1,
      Math.floor(init.maxIndicators * (init.untrustedShare ?? UNTRUSTED_INDICATOR_SHARE)),
    )
    this.#reporterShare = init.reporterShare ?? REPORTER_SLOT_SHARE
    this.#minReporterSlots = init.minReporterSlots ?? MIN_REPORTER_SLOTS
  }

  #get(value: string): Book | undefined {
    return this.#trusted.get(value) ?? this.#untrusted.get(value)
  }

  /** how many reports `reporter` may hold at once */
  reporterSlots(reporter: string): number {
    const trust = this.#c.trustOf(reporter)
    return Math.max(
      this.#minReporterSlots,
      Math.floor(this.#init.maxIndicators * this.#reporterShare * trust),
    )
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

  /** The indicator's book, made when new; `#touch` files it once the new evidence is in. */
  #book(value: string): Book {
    return this.#get(value) ?? { local: [], reports: new Map(), trusted: false }
  }

  #isTrusted(book: Book): boolean {
    if (book.local.length > 0) return true
    const t = this.#init.policy.trustedThreshold
    for (const reporter of book.reports.keys()) if (this.#c.trustOf(reporter) >= t) return true
    return false
  }

  /**
   * Files the book as most recently updated in the pool its evidence puts it in, then keeps both bounds. Only
   * the new evidence is looked at: a book already trusted stays so until weighing finds otherwise (`weigh`
   * reclassifies with every reporter's current trust), which keeps a summary's thousand stand-ins cheap.
   */
  #touch(value: string, book: Book, reporter?: string): void {
    this.#trusted.delete(value)
    this.#untrusted.delete(value)
    book.trusted =
      book.trusted ||
      book.local.length > 0 ||
      (reporter !== undefined && this.#c.trustOf(reporter) >= this.#init.policy.trustedThreshold)
    ;(book.trusted ? this.#trusted : this.#untrusted).set(value, book)
    while (this.#untrusted.size > this.#maxUntrusted) this.#evictIndicator(this.#untrusted)
    while (this.#trusted.size + this.#untrusted.size > this.#init.maxIndicators) {
      this.#evictIndicator(this.#untrusted.size > 0 ? this.#untrusted : this.#trusted)
    }
  }

  /** Moves the book to the other pool when its voices' trust changed, keeping its place otherwise. */
  #reclassify(value: string, book: Book, trusted: boolean): void {
    if (book.trusted === trusted) return
    ;(book.trusted ? this.#trusted : this.#untrusted).delete(value)
    book.trusted = trusted
    ;(trusted ? this.#trusted : this.#untrusted).set(value, book)
    while (this.#untrusted.size > this.#maxUntrusted) this.#evictIndicator(this.#untrusted)
  }

  #evictIndicator(pool: Map<string, Book>): void {
    let it = this.#evictFrom.get(pool)
    let next = it?.next()
    if (it === undefined || next === undefined || next.done === true) {
      // an iterator that ran off the end stays done whatever is added later
      this.#evictFrom.set(pool, (it = pool.entries()))
      next = it.next()
    }
    if (next.done === true) return
    const [value, book] = next.value
    if (book.trusted) this.#evictedTrustedIndicators++
    this.#forget(value, book)
    this.#evictedIndicators++
  }

  #forget(value: string, book: Book): void {
    for (const reporter of book.reports.keys()) this.#unindex(reporter, value)
    this.#reports -= book.reports.size
    this.#trusted.delete(value)
    this.#untrusted.delete(value)
  }

  #unindex(reporter: string, value: string): void {
    const set = this.#byReporter.get(reporter)
    set?.delete(value)
    if (set?.size === 0) this.#byReporter.delete(reporter)
  }

  /**
   * Records a peer's report; with `weigh` (default) the indicator is re-weighed and the verdict applied.
   * Undefined when the indicator is not admitted.
   */
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
    let set = this.#byReporter.get(report.reporter)
    if (prior === undefined) {
      if (set !== undefined) {
        const slots = this.reporterSlots(report.reporter)
        while (set.size >= slots) this.#evictOldestOf(report.reporter, set)
      }
      if (book.reports.size >= this.#init.maxReportsPerIndicator) this.#evictReport(value, book)
      this.#reports++
      if (set === undefined) this.#byReporter.set(report.reporter, (set = new Set()))
    }
    // most recently updated last, so the reporter's first indicator is the one its slot cap evicts
    set?.delete(value)
    set?.add(value)
    book.reports.delete(report.reporter)
    book.reports.set(report.reporter, { ...report })
    this.#touch(value, book, report.reporter)
    return weigh ? this.reevaluate(value) : undefined
  }

  /** Drops the reporter's least recently updated report, and its indicator when nothing else is left there. */
  #evictOldestOf(reporter: string, set: Set<string>): void {
    const value = set.values().next().value as string
    set.delete(value)
    this.#evictedOverReporterSlots++
    const book = this.#get(value)
    if (book === undefined || !book.reports.delete(reporter)) return
    this.#reports--
    if (book.local.length === 0 && book.reports.size === 0) {
      this.#trusted.delete(value)
      this.#untrusted.delete(value)
    } else this.#reclassify(value, book, this.#isTrusted(book))
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
    this.#touch(value, book)
    return weigh ? this.reevaluate(value) : undefined
  }

  /**
   * Whether `reporter`'s own alert on the indicator is held and still counts (not past the policy's maximum age):
   * then a summary restating it adds nothing. Answers without weighing, for each entry of each summary.
   */
  hasAlertReport(indicator: string, reporter: string): boolean {
    const report = this.#get(parseIndicator(indicator).canonical)?.reports.get(reporter)
    return (
      report !== undefined &&
      report.standIn !== true &&
      report.at >= this.#c.clock() - this.#init.policy.maxAgeMs
    )
  }

  /** The verdict on the evidence held now, without acting on it (for "why is this blocked" pages). */
  weigh(indicator: string): BlockVerdict | undefined {
    const value = parseIndicator(indicator).canonical
    const book = this.#get(value)
    if (book === undefined) return undefined
    const now = this.#c.clock()
    this.#prune(value, book, now)
    if (this.#get(value) === undefined) return undefined
    const reports: PeerReport[] = []
    let trusted = book.local.length > 0
    for (const r of book.reports.values()) {
      const trust = this.#c.trustOf(r.reporter)
      if (trust >= this.#init.policy.trustedThreshold) trusted = true
      reports.push({ ...r, trust })
    }
    // trust moves (reporterTrustChanged re-weighs through here): the indicator follows it to the right pool
    this.#reclassify(value, book, trusted)
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
    if (book.local.length === 0 && book.reports.size === 0) {
      this.#trusted.delete(value)
      this.#untrusted.delete(value)
    }
  }

  /** Forgets everything about an indicator (e.g. after an admin unblocks it for good). */
  forget(indicator: string): boolean {
    const value = parseIndicator(indicator).canonical
    const book = this.#get(value)
    if (book === undefined) return false
    this.#forget(value, book)
    return true
  }

  stats(): EvidenceBookStats {
    return {
      indicators: this.#trusted.size + this.#untrusted.size,
      trustedIndicators: this.#trusted.size,
      reports: this.#reports,
      evictedIndicators: this.#evictedIndicators,
      evictedTrustedIndicators: this.#evictedTrustedIndicators,
      evictedReports: this.#evictedReports,
      evictedOverReporterSlots: this.#evictedOverReporterSlots,
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
