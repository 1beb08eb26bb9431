import type { ShieldwallConfig } from '../../config/index.ts'
import type { AlertInput, AlertService } from '../alerts/alert-service.ts'
import type { AlertStore } from '../alerts/alert-store.ts'
import type { DecisionStore, StoredDecision } from '../decisions/decision-store.ts'
import type { SecurityEvent } from '../ingest/event.ts'
import { fileFollower, type FileFollower } from '../ingest/follow/file-follower.ts'
import type { OffsetStore } from '../ingest/follow/offset-store.ts'
import { UNPARSED, type LineParser } from '../ingest/parsers/index.ts'
import { createSourceParser } from '../ingest/source-parser.ts'
import type { Logger } from '../logging/logger.ts'
import type { StoreBatchOp } from '../store/open-store.ts'
import type { DetectionEngine } from './detection-engine.ts'
import type { Finding } from './detector.ts'
import type { Decision } from './ensemble.ts'
import { ALL_SCENARIOS } from './scenarios/scenario-detector.ts'
import { nonRoutable, type Unshareable } from '../blocklist/allowlist.ts'

export type SourceConfig = ShieldwallConfig['sources'][number]

export interface SourceStats {
  path: string
  format: string
  lines: number
  events: number
  unparsed: number
  decisions: number
  error?: string
}

export interface DetectionServiceInit {
  sources: SourceConfig[]
  publishAlerts: boolean
  /** how often window-based detectors are ticked with the wall clock */
  tickMs: number
  /** offence counts of addresses decided on within this window are restored at start */
  offenceMemoryMs: number
  /** most sighting alerts published per minute: a scan of many addresses must not flood the network */
  maxSightingsPerMinute: number
}

export interface DetectionServiceComponents {
  engine: DetectionEngine
  decisions: DecisionStore
  alerts: Pick<AlertService, 'publish'>
  /**
   * This node's alerts, read at start-up: a decision still marked "alert pending" whose alert was in fact
   * stored just before a crash gets that alert linked instead of a second one.
   */
  alertStore?: Pick<AlertStore, 'list'>
  offsets: OffsetStore
  logger: Logger
  clock?: () => number
  /** an address this node already blocks needs no sighting: the network has heard enough about it */
  alreadyBlocked?: (ip: string) => boolean
  /**
   * Why an address must never leave this node (its allowlist, loopback, private and special-use ranges), or
   * undefined: the allowlist's `unshareable`. Decisions about such an address are kept and shown locally but
   * never published, nor are sightings of it. Without it, non-routable addresses are still held back.
   */
  unshareable?: (ip: string) => Unshareable | undefined
}

/** the alert schema's bound on an attack's window */
const MAX_WINDOW_SECONDS = 30 * 24 * 3600

/** may return a promise: the decision stays marked pending until it settles (e.g. the local block on disk) */
type DecisionListener = (decision: StoredDecision) => unknown
type SightingListener = (sighting: Finding) => void

/** sighting alerts live this long: long enough for slow distributed attacks, short enough to age out */
const SIGHTING_TTL_SECONDS = 3600

/**
 * How many of the newest stored alerts start-up looks through for the alerts of pending decisions. The alerts
 * of a batch of decisions (one read of the log: up to about 10,000 lines) are linked together once all are
 * published, so those a crash left unlinked are among the last the node stored before dying; the scan also
 * stops at the oldest pending decision.
 */
const PENDING_ALERT_SCAN = 100_000

/** Errors that publishing the same decision again would meet again: its pending mark is dropped. */
const PERMANENT_PUBLISH_ERRORS: ReadonlySet<string> = new Set(['AlertPublishError', 'ZodError'])

/** this node's alerts by `${indicator} ${scenario}`, oldest first */
type LocalAlerts = Map<string, { id: string; createdAt: number }[]>

/** Decisions written together, and their announcement (alert published and linked, listeners told). */
interface DecisionBatch {
  /** resolves once the decisions (and any writes committed with them) are on disk; rejects if they are not */
  durable: Promise<StoredDecision[]>
  /** resolves once their alerts are published, the listeners done and the links stored; never rejects */
  done: Promise<StoredDecision[]>
}

const DEFAULTS: DetectionServiceInit = {
  sources: [],
  publishAlerts: true,
  tickMs: 1000,
  offenceMemoryMs: 30 * 24 * 3600 * 1000,
  maxSightingsPerMinute: 60,
}

/**
 * Live detection: follows each configured log, parses every line, runs the engine, and turns each decision
 * into a stored local decision and a signed alert for the network. `ingest()` is the same path for events
 * pushed through the API.
 */
export class DetectionService {
  readonly #init: DetectionServiceInit
  readonly #c: DetectionServiceComponents
  readonly #clock: () => number
  readonly #log: Logger
  readonly #followers: { follower: FileFollower; stats: SourceStats }[] = []
  readonly #listeners = new Set<DecisionListener>()
  readonly #sightingListeners = new Set<SightingListener>()
  #sightingWindow = { start: 0, count: 0 }
  readonly sightingCounts = { seen: 0, published: 0, dropped: 0 }
  /** decisions and sightings kept here without an alert: their address must never leave this node */
  readonly unshared = { decisions: 0, sightings: 0 }
  #tick?: NodeJS.Timeout
  /** decisions are persisted one after another so offence counts and alert order stay consistent */
  #chain: Promise<unknown> = Promise.resolve()
  readonly #apiStats: SourceStats

  constructor(init: DetectionServiceInit, components: DetectionServiceComponents) {
    this.#init = init
    this.#c = components
    this.#clock = components.clock ?? Date.now
    this.#log = components.logger.child({ component: 'detect' })
    this.#apiStats = { path: 'api', format: 'events', lines: 0, events: 0, unparsed: 0, decisions: 0 }
  }

  async start(): Promise<void> {
    for await (const { ip, offences } of this.#c.decisions.recentOffences(
      this.#clock() - this.#init.offenceMemoryMs,
    )) {
      this.#c.engine.ensemble.setOffences(ip, offences)
    }
    // before any new decision, so alerts keep the order of their decisions
    await this.#announcePending()
    for (const source of this.#init.sources) await this.#follow(source)
    this.#tick = setInterval(() => {
      const decided = this.#c.engine.tick(this.#clock())
      if (decided.length > 0) void this.#decideAll(decided, undefined)
    }, this.#init.tickMs).unref()
  }

  async stop(): Promise<void> {
    clearInterval(this.#tick)
    await Promise.all(this.#followers.map(({ follower }) => follower.stop()))
    await this.#chain
  }

  onDecision(listener: DecisionListener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  async #follow(source: SourceConfig): Promise<void> {
    const stats: SourceStats = {
      path: source.path,
      format: source.format,
      lines: 0,
      events: 0,
      unparsed: 0,
      decisions: 0,
    }
    let parser: LineParser | undefined
    const follower = fileFollower({ path: source.path, startAt: source.startAt })({
      offsets: this.#c.offsets,
      logger: this.#log.child({ source: source.path }),
    })
    const offsets = this.#c.offsets
    await follower.start(async (lines, meta) => {
      if (parser === undefined) {
        try {
          // `auto` is decided on the first lines we actually see, so a file that does not exist yet is fine.
          parser = createSourceParser(source.format, lines.slice(0, 50), {
            source: source.path,
            ...(source.utcOffsetMinutes !== undefined ? { utcOffsetMinutes: source.utcOffsetMinutes } : {}),
          })
          stats.format = parser.format
          delete stats.error
        } catch (err) {
          stats.error = (err as Error).message
          stats.lines += lines.length
          stats.unparsed += lines.length
          this.#log.warn({ err, source: source.path }, 'cannot parse this source yet')
          return
        }
      }
      const ctx = { now: this.#clock() }
      const decided: Decision[] = []
      for (const line of lines) {
        stats.lines++
        const r = parser.parse(line, ctx)
        if (r === UNPARSED) {
          if (line.length > 0) stats.unparsed++
          continue
        }
        if (r === undefined) continue
        stats.events++
        const d = this.#c.engine.observe(r)
        if (d !== undefined) {
          stats.decisions++
          decided.push(d)
        }
      }
      // The follower stores the offset once this resolves, and a restart reads on from there: so resolve only
      // when what these lines caused is on disk. Their decisions, each marked "alert pending", go in one batch
      // with the offset itself, so a crash leaves both or neither (re-read lines decide again, once); the
      // sightings they raised are published first, being earlier on the chain.
      if (decided.length === 0) return void (await this.#chain)
      const also = offsets.putOp !== undefined ? [offsets.putOp(meta.path, meta.record)] : []
      await this.#decideAll(decided, source.path, also).durable
    })
    this.#followers.push({ follower, stats })
  }

  /**
   * Events pushed by a service through the API, already structured and validated. Resolves with their
   * decisions once those are stored and announced (empty if they could not be stored).
   */
  ingest(events: SecurityEvent[]): Promise<StoredDecision[]> {
    const decided: Decision[] = []
    for (const e of events) {
      this.#apiStats.events++
      const d = this.#c.engine.observe(e)
      if (d !== undefined) {
        this.#apiStats.decisions++
        decided.push(d)
      }
    }
    return decided.length === 0 ? Promise.resolve([]) : this.#decideAll(decided, 'api').done
  }

  /**
   * Stores decisions in one batch (with `also`), each marked "announcement pending", then announces them one
   * by one (alert published, listeners told), and links and unmarks them once the listeners' writes (the local
   * block) are done. Everything runs on one chain, so offence counts and alert order follow decision order.
   */
  #decideAll(decisions: Decision[], source: string | undefined, also: StoreBatchOp[] = []): DecisionBatch {
    const durable = this.#chain.then(async () => {
      // Bans run on the wall clock, whatever time the log lines said (a replayed backlog bans from now).
      const now = this.#clock()
      const live = decisions.map((d): Decision => ({
        ...d,
        decidedAt: now,
        expiresAt: now + d.durationSeconds * 1000,
      }))
      const stored = await this.#c.decisions.putAll(live, 'local', { pending: true, also })
      for (const d of stored) {
        this.#log.info(
          {
            ip: d.ip,
            scenario: d.scenario,
            confidence: d.confidence,
            seconds: d.durationSeconds,
            source,
            reasons: d.reasons,
          },
          'decision',
        )
      }
      return stored
    })
    // whoever waits on `done` alone must not see an unhandled rejection here
    durable.catch(() => undefined)
    const done = durable.then(async (stored) => {
      await this.#announceAll(stored)
      return stored
    })
    this.#chain = done.catch((err) => this.#log.error({ err, source }, 'storing decisions failed'))
    return { durable, done: done.catch(() => []) }
  }

  /**
   * Announces each decision (alert published, listeners told), waits for what the listeners write (a listener
   * may return a promise: the community defense's is the local block on disk), then links the alerts and
   * unmarks the decisions fully announced, in one batch. Until that batch, a crash leaves them marked, and
   * start-up finds their alerts among the newest stored.
   */
  async #announceAll(decisions: StoredDecision[], stored?: LocalAlerts): Promise<number> {
    const linked: StoredDecision[] = []
    const settled: StoredDecision[] = []
    const waits: Promise<unknown>[] = []
    let found = 0
    for (const d of decisions) {
      const r = await this.#announce(d, stored)
      if (r.alert !== 'none') linked.push(d)
      if (r.alert === 'found') found++
      if (r.settled) settled.push(d)
      waits.push(...r.waits)
    }
    await Promise.all(waits)
    try {
      await this.#c.decisions.finish(linked, settled)
    } catch (err) {
      // they stay marked: the next start links their alerts and tells the listeners again
      this.#log.error({ err }, 'could not record decisions as announced')
    }
    return found
  }

  /**
   * Publishes a stored decision's alert, unless it has one or one of ours stored for it is among `stored`, and
   * tells the listeners. A decision whose alert could not be published stays marked for the next start.
   */
  async #announce(
    d: StoredDecision,
    stored?: LocalAlerts,
  ): Promise<{ alert: 'none' | 'found' | 'published'; settled: boolean; waits: Promise<unknown>[] }> {
    let alert: 'none' | 'found' | 'published' = 'none'
    let settled = true
    if (this.#init.publishAlerts && d.alertId === undefined && this.#mayShare(d.ip)) {
      try {
        const id = takeAlertOf(stored, d)
        if (id !== undefined) {
          d.alertId = id
          alert = 'found'
        } else {
          d.alertId = (await this.#c.alerts.publish(alertOf(d, this.#clock()))).id
          alert = 'published'
        }
      } catch (err) {
        if (PERMANENT_PUBLISH_ERRORS.has((err as Error).name)) {
          this.#log.error({ err, ip: d.ip }, 'decision stored but its alert can never be published')
        } else {
          settled = false
          this.#log.error({ err, ip: d.ip }, 'decision stored, its alert will be published at the next start')
        }
      }
    }
    return { alert, settled, waits: this.#tell(d) }
  }

  #tell(d: StoredDecision): Promise<unknown>[] {
    const waits: Promise<unknown>[] = []
    for (const listener of this.#listeners) {
      try {
        const r = listener(d)
        if (r instanceof Promise) {
          waits.push(r.catch((err: unknown) => this.#log.error({ err }, 'decision listener failed')))
        }
      } catch (err) {
        this.#log.error({ err }, 'decision listener failed')
      }
    }
    return waits
  }

  /**
   * Start-up: every stored decision still marked (the node died before its announcement finished, or its
   * alert could not be published) is announced now: alert, then listeners. One whose alert was stored before
   * the death (found among the newest local alerts: same address and scenario, signed at or after the
   * decision) is linked to it rather than announced twice; one whose ban is over is let go.
   */
  async #announcePending(): Promise<void> {
    const pending: StoredDecision[] = []
    for await (const d of this.#c.decisions.pending()) pending.push(d)
    if (pending.length === 0) return
    const now = this.#clock()
    const live = pending.filter((d) => d.expiresAt > now)
    await this.#c.decisions.finish(
      [],
      pending.filter((d) => d.expiresAt <= now),
    )
    const unlinked = live.filter((d) => d.alertId === undefined)
    const stored: LocalAlerts =
      unlinked.length === 0 || !this.#init.publishAlerts
        ? new Map()
        : await this.#localAlertsSince(Math.min(...unlinked.map((d) => d.decidedAt)))
    // Nothing else is on the decision chain yet: following and ticks start after this.
    const linked = await this.#announceAll(live, stored)
    // worth a warning: the node was killed, or could not publish, while decisions were being announced
    this.#log.warn(
      {
        pending: pending.length,
        published: this.#init.publishAlerts ? unlinked.length - linked : 0,
        linked,
        expired: pending.length - live.length,
      },
      'decisions stored before the last stop were not fully announced: announced now',
    )
  }

  /** This node's own alerts stored at or after `since`, by address and scenario, oldest first. */
  async #localAlertsSince(since: number): Promise<LocalAlerts> {
    const found: LocalAlerts = new Map()
    if (this.#c.alertStore === undefined) return found
    let cursor: string | undefined
    let scanned = 0
    scan: while (scanned < PENDING_ALERT_SCAN) {
      const page = await this.#c.alertStore.list({ limit: 500, ...(cursor !== undefined ? { cursor } : {}) })
      for (const a of page.items) {
        if (a.receivedAt < since) break scan
        scanned++
        if (a.origin !== 'local') continue
        const k = `${a.indicator} ${a.scenario}`
        const list = found.get(k) ?? []
        list.unshift({ id: a.id, createdAt: a.createdAt })
        found.set(k, list)
      }
      if (page.nextCursor === undefined) break
      cursor = page.nextCursor
    }
    return found
  }

  onSighting(listener: SightingListener): () => void {
    this.#sightingListeners.add(listener)
    return () => this.#sightingListeners.delete(listener)
  }

  /**
   * A sighting from the scenario detector: an address half-way to a ban here. Listeners (community defense)
   * count it as weak local evidence; the network gets a low-confidence alert, rate-limited.
   */
  sight(sighting: Finding): void {
    this.sightingCounts.seen++
    if (this.#c.alreadyBlocked?.(sighting.ip) === true) return
    for (const listener of this.#sightingListeners) {
      try {
        listener(sighting)
      } catch (err) {
        this.#log.error({ err }, 'sighting listener failed')
      }
    }
    if (!this.#init.publishAlerts) return
    if (this.#unshareable(sighting.ip) !== undefined) {
      this.unshared.sightings++
      return
    }
    const now = this.#clock()
    if (now - this.#sightingWindow.start >= 60_000) this.#sightingWindow = { start: now, count: 0 }
    if (this.#sightingWindow.count >= this.#init.maxSightingsPerMinute) {
      this.sightingCounts.dropped++
      return
    }
    this.#sightingWindow.count++
    const spec = ALL_SCENARIOS.find((s) => s.name === sighting.scenario)
    this.#chain = this.#chain
      .then(async () => {
        await this.#c.alerts.publish({
          indicator: sighting.ip,
          scenario: sighting.scenario,
          severity: spec?.severity ?? 'medium',
          confidence: sighting.score,
          events: Math.max(1, sighting.events),
          windowSeconds: Math.min(
            MAX_WINDOW_SECONDS,
            Math.max(0, Math.round((sighting.last - sighting.first) / 1000)),
          ),
          firstSeen: Math.min(sighting.first, now),
          lastSeen: Math.min(sighting.last, now),
          ttlSeconds: SIGHTING_TTL_SECONDS,
        })
        this.sightingCounts.published++
      })
      .catch((err) => this.#log.warn({ err, ip: sighting.ip }, 'sighting alert not published'))
  }

  #unshareable(ip: string): Unshareable | undefined {
    return this.#c.unshareable !== undefined ? this.#c.unshareable(ip) : nonRoutable(ip)
  }

  /**
   * Whether a decision about `ip` may be published. An honest node behind Docker NAT sees every client as
   * 172.17.0.1: its alerts about it would say nothing to peers, leak its network, and cost it their trust.
   */
  #mayShare(ip: string): boolean {
    const why = this.#unshareable(ip)
    if (why === undefined) return true
    this.unshared.decisions++
    this.#log.info(
      { ip, reason: why.reason, entry: why.entry.cidr },
      'decision kept on this node: its address is never published',
    )
    return false
  }

  engineStats() {
    return this.#c.engine.stats()
  }

  sources(): (SourceStats & { follow?: unknown })[] {
    return [
      ...this.#followers.map(({ follower, stats }) => ({ ...stats, follow: follower.stats() })),
      { ...this.#apiStats },
    ]
  }
}

/** Takes (removes) the oldest of our stored alerts that can be this decision's: same subject, signed after it. */
function takeAlertOf(stored: LocalAlerts | undefined, d: StoredDecision): string | undefined {
  const candidates = stored?.get(`${d.ip} ${d.scenario}`)
  const i = candidates?.findIndex((a) => a.createdAt >= d.decidedAt) ?? -1
  return i === -1 ? undefined : candidates!.splice(i, 1)[0]!.id
}

/** The alert that tells the network about a decision. */
function alertOf(d: Decision, now: number): AlertInput {
  return {
    indicator: d.ip,
    scenario: d.scenario,
    severity: d.severity,
    confidence: d.confidence,
    events: Math.max(1, d.events),
    windowSeconds: Math.min(MAX_WINDOW_SECONDS, Math.max(0, Math.round((d.last - d.first) / 1000))),
    firstSeen: Math.min(d.first, now),
    lastSeen: Math.min(d.last, now),
    ttlSeconds: d.durationSeconds,
  }
}

export function detectionService(
  init: Partial<DetectionServiceInit> = {},
): (components: DetectionServiceComponents) => DetectionService {
  const merged = {
    ...DEFAULTS,
    ...Object.fromEntries(Object.entries(init).filter(([, v]) => v !== undefined)),
  }
  return (components) => new DetectionService(merged as DetectionServiceInit, components)
}
