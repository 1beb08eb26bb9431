import type { ShieldwallConfig } from '../../config/index.ts'
import type { AlertService } from '../alerts/alert-service.ts'
import type { DecisionStore, StoredDecision } from '../decisions/decision-store.ts'
import type { SecurityEvent } from '../ingest/event.ts'
import { fileFollower, type FileFollower } from '../ingest/follow/file-follower.ts'
import type { OffsetStore } from '../ingest/follow/offset-store.ts'
import { UNPARSED, type LineParser } from '../ingest/parsers/index.ts'
import { createSourceParser } from '../ingest/source-parser.ts'
import type { Logger } from '../logging/logger.ts'
import type { DetectionEngine } from './detection-engine.ts'
import type { Finding } from './detector.ts'
import type { Decision } from './ensemble.ts'
import { ALL_SCENARIOS } from './scenarios/scenario-detector.ts'

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
  alerts: AlertService
  offsets: OffsetStore
  logger: Logger
  clock?: () => number
  /** an address this node already blocks needs no sighting: the network has heard enough about it */
  alreadyBlocked?: (ip: string) => boolean
}

/** the alert schema's bound on an attack's window */
const MAX_WINDOW_SECONDS = 30 * 24 * 3600

type DecisionListener = (decision: StoredDecision) => void
type SightingListener = (sighting: Finding) => void

/** sighting alerts live this long: long enough for slow distributed attacks, short enough to age out */
const SIGHTING_TTL_SECONDS = 3600

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
    for (const source of this.#init.sources) await this.#follow(source)
    this.#tick = setInterval(() => {
      for (const d of this.#c.engine.tick(this.#clock())) this.#decide(d, undefined)
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
    await follower.start((lines) => {
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
          this.#decide(d, source.path)
        }
      }
    })
    this.#followers.push({ follower, stats })
  }

  /** Events pushed by a service through the API, already structured and validated. */
  ingest(events: SecurityEvent[]): StoredDecision[] | Promise<StoredDecision[]> {
    const pending: Promise<StoredDecision | undefined>[] = []
    for (const e of events) {
      this.#apiStats.events++
      const d = this.#c.engine.observe(e)
      if (d !== undefined) {
        this.#apiStats.decisions++
        pending.push(this.#decide(d, 'api'))
      }
    }
    return Promise.all(pending).then((all) => all.filter((d): d is StoredDecision => d !== undefined))
  }

  #decide(decision: Decision, source: string | undefined): Promise<StoredDecision | undefined> {
    const result = this.#chain.then(async () => {
      // Bans run on the wall clock, whatever time the log lines said (a replayed backlog bans from now).
      const now = this.#clock()
      const live: Decision = { ...decision, decidedAt: now, expiresAt: now + decision.durationSeconds * 1000 }
      const stored = await this.#c.decisions.put(live, 'local')
      this.#log.info(
        {
          ip: live.ip,
          scenario: live.scenario,
          confidence: live.confidence,
          seconds: live.durationSeconds,
          source,
          reasons: live.reasons,
        },
        'decision',
      )
      if (this.#init.publishAlerts) {
        try {
          const alert = await this.#c.alerts.publish({
            indicator: live.ip,
            scenario: live.scenario,
            severity: live.severity,
            confidence: live.confidence,
            events: Math.max(1, live.events),
            windowSeconds: Math.min(
              MAX_WINDOW_SECONDS,
              Math.max(0, Math.round((live.last - live.first) / 1000)),
            ),
            firstSeen: Math.min(live.first, now),
            lastSeen: Math.min(live.last, now),
            ttlSeconds: live.durationSeconds,
          })
          stored.alertId = alert.id
          await this.#c.decisions.attachAlert(stored, alert.id)
        } catch (err) {
          this.#log.error({ err, ip: live.ip }, 'decision stored but its alert could not be published')
        }
      }
      for (const listener of this.#listeners) listener(stored)
      return stored
    })
    this.#chain = result.catch((err) => this.#log.error({ err }, 'storing a decision failed'))
    return result.catch(() => undefined)
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

export function detectionService(
  init: Partial<DetectionServiceInit> = {},
): (components: DetectionServiceComponents) => DetectionService {
  const merged = {
    ...DEFAULTS,
    ...Object.fromEntries(Object.entries(init).filter(([, v]) => v !== undefined)),
  }
  return (components) => new DetectionService(merged as DetectionServiceInit, components)
}
