import { Counter, Gauge, Histogram, Registry } from 'prom-client'

/**
 * What the metrics read at scrape time. Functions rather than objects so a node can expose metrics for
 * services that start later (or not at all) without the registry knowing their classes; each may throw
 * while the node is starting or stopping, and such a series is then simply left out of that scrape.
 */
export interface MetricsSources {
  ingestSources?: () => Array<{
    path: string
    format: string
    lines: number
    events: number
    unparsed: number
  }>
  detectorStats?: () => Record<string, Record<string, number>>
  alertCounts?: () => {
    published: number
    accepted: number
    rejected: Partial<Record<string, number>>
    ignored: Partial<Record<string, number>>
    /** of the ignored, those dropped only because the pool shared by all untrusted peers was spent */
    pooled?: { judged: number; verified: number }
  }
  peers?: () => number
  gossipScores?: () => number[]
  trust?: () => number[]
  blocklistSize?: () => number
  federation?: () => { rounds: number; epsilonSpent: number; epsilonBudget: number; contributing: boolean }
}

/** Histogram buckets for the control API, in seconds: the bouncer path should live in the first few. */
export const API_LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]
/** Trust and gossipsub score distributions are exported as bucketed gauges. */
export const TRUST_BUCKETS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]

function attempt<T>(f: (() => T) | undefined): T | undefined {
  if (f === undefined) return undefined
  try {
    return f()
  } catch {
    return undefined
  }
}

/**
 * One Prometheus registry per node (the simulator runs many nodes in one process, so never the global one).
 * Counters that the node already counts elsewhere are read at scrape time; decisions and API requests are
 * counted here as they happen.
 */
export class NodeMetrics {
  readonly registry = new Registry()
  readonly decisions: Counter<'scenario' | 'origin'>
  readonly blocklistChanges: Counter<'change' | 'origin'>
  readonly apiLatency: Histogram<'method' | 'route' | 'status'>
  readonly webhookDeliveries: Counter<'outcome'>
  #sources: MetricsSources = {}

  constructor(labels: { node?: string } = {}) {
    if (labels.node !== undefined) this.registry.setDefaultLabels({ node: labels.node })
    const registers = [this.registry]
    const sources = () => this.#sources

    new Counter({
      name: 'shieldwall_ingest_lines_total',
      help: 'Log lines read, per source and format',
      labelNames: ['source', 'format'],
      registers,
      collect() {
        this.reset()
        for (const s of attempt(sources().ingestSources) ?? [])
          this.inc({ source: s.path, format: s.format }, s.lines)
      },
    })
    new Counter({
      name: 'shieldwall_ingest_events_total',
      help: 'Security events parsed from log lines or pushed through the API, per source and format',
      labelNames: ['source', 'format'],
      registers,
      collect() {
        this.reset()
        for (const s of attempt(sources().ingestSources) ?? [])
          this.inc({ source: s.path, format: s.format }, s.events)
      },
    })
    new Counter({
      name: 'shieldwall_ingest_unparsed_lines_total',
      help: 'Log lines no parser understood (counted and skipped)',
      labelNames: ['source', 'format'],
      registers,
      collect() {
        this.reset()
        for (const s of attempt(sources().ingestSources) ?? [])
          this.inc({ source: s.path, format: s.format }, s.unparsed)
      },
    })
    new Gauge({
      name: 'shieldwall_detector_state',
      help: 'Detector state counters (tracked addresses, evictions, overflows), per detector and counter',
      labelNames: ['detector', 'counter'],
      registers,
      collect() {
        this.reset()
        const stats = attempt(sources().detectorStats) ?? {}
        for (const [detector, counters] of Object.entries(stats))
          for (const [counter, value] of Object.entries(counters))
            if (Number.isFinite(value)) this.set({ detector, counter }, value)
      },
    })
    this.decisions = new Counter({
      name: 'shieldwall_decisions_total',
      help: 'Local decisions made, per scenario and origin',
      labelNames: ['scenario', 'origin'],
      registers,
    })
    new Counter({
      name: 'shieldwall_alerts_total',
      help: 'Signed alerts: published by this node, or received and accepted, rejected or ignored, per reason',
      labelNames: ['outcome', 'reason'],
      registers,
      collect() {
        this.reset()
        const c = attempt(sources().alertCounts)
        if (c === undefined) return
        this.inc({ outcome: 'published', reason: '' }, c.published)
        this.inc({ outcome: 'accepted', reason: '' }, c.accepted)
        for (const [reason, n] of Object.entries(c.rejected))
          this.inc({ outcome: 'rejected', reason }, n ?? 0)
        for (const [reason, n] of Object.entries(c.ignored)) this.inc({ outcome: 'ignored', reason }, n ?? 0)
      },
    })
    new Counter({
      name: 'shieldwall_alerts_untrusted_pool_refusals_total',
      help: 'Received alerts dropped because all untrusted peers together had spent their shared pool, per budget (judge, verify)',
      labelNames: ['budget'],
      registers,
      collect() {
        this.reset()
        const pooled = attempt(sources().alertCounts)?.pooled
        if (pooled === undefined) return
        this.inc({ budget: 'judge' }, pooled.judged)
        this.inc({ budget: 'verify' }, pooled.verified)
      },
    })
    new Gauge({
      name: 'shieldwall_peers',
      help: 'Connected peers',
      registers,
      collect() {
        const n = attempt(sources().peers)
        if (n !== undefined) this.set(n)
      },
    })
    new Gauge({
      name: 'shieldwall_gossipsub_peer_score',
      help: 'Connected peers by gossipsub score (min, median, max)',
      labelNames: ['stat'],
      registers,
      collect() {
        this.reset()
        const scores = (attempt(sources().gossipScores) ?? []).slice().sort((a, b) => a - b)
        if (scores.length === 0) return
        this.set({ stat: 'min' }, scores[0])
        this.set({ stat: 'median' }, scores[Math.floor(scores.length / 2)])
        this.set({ stat: 'max' }, scores[scores.length - 1])
      },
    })
    new Gauge({
      name: 'shieldwall_peer_trust_peers',
      help: 'Known peers by trust, cumulative: peers whose trust is at most `at_most`',
      labelNames: ['at_most'],
      registers,
      collect() {
        this.reset()
        const trust = attempt(sources().trust)
        if (trust === undefined) return
        for (const le of TRUST_BUCKETS) this.set({ at_most: String(le) }, trust.filter((t) => t <= le).length)
      },
    })
    new Gauge({
      name: 'shieldwall_blocklist_entries',
      help: 'Active blocklist entries',
      registers,
      collect() {
        const n = attempt(sources().blocklistSize)
        if (n !== undefined) this.set(n)
      },
    })
    this.blocklistChanges = new Counter({
      name: 'shieldwall_blocklist_changes_total',
      help: 'Blocklist entries added and removed, per origin',
      labelNames: ['change', 'origin'],
      registers,
    })
    new Gauge({
      name: 'shieldwall_federated_round',
      help: 'The federated learning round this node is in (rounds follow the clock)',
      registers,
      collect() {
        const f = attempt(sources().federation)
        if (f !== undefined) this.set(f.rounds)
      },
    })
    new Gauge({
      name: 'shieldwall_privacy_epsilon',
      help: 'Differential privacy: epsilon spent and the configured budget',
      labelNames: ['kind'],
      registers,
      collect() {
        const f = attempt(sources().federation)
        if (f === undefined) return
        this.set({ kind: 'spent' }, f.epsilonSpent)
        this.set({ kind: 'budget' }, f.epsilonBudget)
      },
    })
    this.apiLatency = new Histogram({
      name: 'shieldwall_api_request_duration_seconds',
      help: 'Control and bouncer API request latency, per method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      buckets: API_LATENCY_BUCKETS,
      registers,
    })
    this.webhookDeliveries = new Counter({
      name: 'shieldwall_webhook_deliveries_total',
      help: 'Webhook deliveries by final outcome',
      labelNames: ['outcome'],
      registers,
    })
  }

  /** Adds (or replaces) what the scrape-time metrics read. */
  provide(sources: MetricsSources): void {
    this.#sources = { ...this.#sources, ...sources }
  }

  async text(): Promise<string> {
    return promtoolClean(await this.registry.metrics())
  }

  get contentType(): string {
    return this.registry.contentType
  }
}

/** A name Prometheus would not misread for a metric of this type. */
function cleanName(name: string, type: string): string {
  let out = name
  if (type !== 'counter' && out.endsWith('_total')) out = out.slice(0, -'_total'.length)
  if (type !== 'histogram' && type !== 'summary' && /_(bucket|count|sum)$/.test(out)) out += '_value'
  return out
}

/**
 * libp2p names a few gauges `..._total` or `..._bucket`, suffixes Prometheus reserves for counters and
 * histograms (`promtool check metrics` flags them). Such families are renamed; everything else is untouched.
 */
export function promtoolClean(text: string): string {
  const renames = new Map<string, string>()
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const to = cleanName(m[1], m[2])
    if (to !== m[1]) renames.set(m[1], to)
  }
  if (renames.size === 0) return text
  return text
    .split('\n')
    .map((line) => {
      const name = /^(?:# (?:TYPE|HELP) )?([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line)?.[1]
      const to = name === undefined ? undefined : renames.get(name)
      return to === undefined ? line : line.replace(name as string, to)
    })
    .join('\n')
}
