import { indicatorContains, parseIndicator, type Indicator } from '../../protocol/indicator.ts'
import type { BlockEntry, BlocklistView, BlockOrigin } from '../blocklist/block-entry.ts'
import type { ChangeJournal, JournalRecord } from './change-journal.ts'
import { SnapshotCache, type RemovedDecision } from './decision-snapshot.ts'
import { formatGoDurationMs } from './go-duration.ts'

/**
 * A decision exactly as CrowdSec's Local API serves it (pkg/models/decision.go): Go bouncers decode
 * `duration` with time.ParseDuration and dereference `scenario`, `value`, `type`, `scope`, `origin` and
 * `duration` without checks, so all six are always present. No extra fields: a future model that gives one of
 * our names a stricter type would make a whole pull fail to decode.
 */
export interface CrowdsecDecision {
  id: number
  origin: string
  type: 'ban'
  scope: 'Ip' | 'Range'
  value: string
  /** time left, Go duration text; negative for a decision that has ended */
  duration: string
  scenario: string
}

/**
 * Origins as CrowdSec names them, so bouncer configs such as `origins: [crowdsec, cscli]` keep their meaning:
 * our own detections are what the local agent would have found, admin blocks are what cscli would have added,
 * and the network's weighed alerts play the part of the community blocklist (CAPI).
 */
export const CROWDSEC_ORIGIN: Record<BlockOrigin, string> = {
  local: 'crowdsec',
  manual: 'cscli',
  community: 'CAPI',
}

/** Scenarios read `shieldwall/ssh-bf`, in the `author/name` form of CrowdSec's hub. */
export const SCENARIO_PREFIX = 'shieldwall/'

/**
 * The longest duration Go can represent (2^63-1 ns, about 292 years). Manual blocks that never expire are
 * reported as this: anything longer fails time.ParseDuration in the bouncer and the decision is dropped.
 */
export const GO_MAX_DURATION_MS = 9_223_372_036_854

export function toCrowdsecDecision(entry: BlockEntry, now: number, endedAt?: number): CrowdsecDecision {
  const end = endedAt === undefined ? entry.expiresAt : Math.min(entry.expiresAt, endedAt)
  const left = Math.max(-GO_MAX_DURATION_MS, Math.min(GO_MAX_DURATION_MS, end - now))
  return {
    id: entry.id,
    origin: CROWDSEC_ORIGIN[entry.origin] ?? entry.origin,
    type: entry.type,
    scope: entry.scope === 'range' ? 'Range' : 'Ip',
    value: entry.value,
    duration: formatGoDurationMs(left),
    scenario: SCENARIO_PREFIX + entry.scenario,
  }
}

/** The filters LAPI applies to both /v1/decisions and /v1/decisions/stream. Empty lists mean "any". */
export interface DecisionFilter {
  /** lower-case: `ip`, `range` */
  scopes?: ReadonlySet<string>
  /** any of these, case-insensitive substrings of the scenario */
  scenariosContaining?: readonly string[]
  /** none of these */
  scenariosNotContaining?: readonly string[]
  /** CrowdSec names (`crowdsec`, `cscli`, `CAPI`) or ours (`local`, `manual`, `community`) */
  origins?: ReadonlySet<string>
  /** exact value; canonicalised when it is an address or CIDR */
  value?: string
  type?: string
}

/** `a,b,,c` → [a, b, c]; LAPI splits its list parameters on commas. */
export function splitList(text: string | undefined): string[] {
  if (text === undefined) return []
  return text.split(',').map((s) => s.trim())
}

export function matchesFilter(entry: BlockEntry, filter: DecisionFilter): boolean {
  if (filter.type !== undefined && filter.type !== entry.type) return false
  if (filter.value !== undefined && filter.value !== entry.value) return false
  if (filter.scopes !== undefined && !filter.scopes.has(entry.scope)) return false
  if (
    filter.origins !== undefined &&
    !filter.origins.has(entry.origin) &&
    !filter.origins.has(CROWDSEC_ORIGIN[entry.origin])
  ) {
    return false
  }
  const contain = filter.scenariosContaining
  const avoid = filter.scenariosNotContaining
  if ((contain !== undefined && contain.length > 0) || (avoid !== undefined && avoid.length > 0)) {
    const scenario = (SCENARIO_PREFIX + entry.scenario).toLowerCase()
    if (contain !== undefined && contain.length > 0 && !contain.some((w) => scenario.includes(w)))
      return false
    if (avoid !== undefined && avoid.some((w) => scenario.includes(w))) return false
  }
  return true
}

/** Normalises user-supplied filter text once, so matching is plain comparisons. */
export function buildFilter(params: {
  scopes?: string
  scenariosContaining?: string
  scenariosNotContaining?: string
  origins?: string
  value?: string
  type?: string
}): DecisionFilter {
  const filter: DecisionFilter = {}
  if (params.scopes !== undefined)
    filter.scopes = new Set(splitList(params.scopes).map((s) => s.toLowerCase()))
  if (params.scenariosContaining !== undefined) {
    filter.scenariosContaining = splitList(params.scenariosContaining).map((s) => s.toLowerCase())
  }
  if (params.scenariosNotContaining !== undefined) {
    filter.scenariosNotContaining = splitList(params.scenariosNotContaining).map((s) => s.toLowerCase())
  }
  if (params.origins !== undefined) filter.origins = new Set(splitList(params.origins))
  if (params.type !== undefined) filter.type = params.type
  if (params.value !== undefined) {
    let value = params.value
    try {
      value = parseIndicator(value).canonical
    } catch {
      // not an address: compared as given (and then matches nothing, as all our values are addresses)
    }
    filter.value = value
  }
  return filter
}

export interface DecisionQuery extends DecisionFilter {
  /** `ip=` or `range=` */
  address?: Indicator
  /**
   * LAPI's `contains` (default true): decisions that contain the address/range; false: decisions that lie
   * within the range.
   */
  contains?: boolean
}

export type { RemovedDecision }

/**
 * One bouncer's pull, before formatting. A startup or resync answer is read from the shared snapshot as it is
 * written (a million entries are never built at once, nor once per bouncer); a delta is collapsed up front.
 */
export interface StreamPull {
  /** startup: asked for; resync: the bouncer's position was lost (restart, journal overflow); delta: since last */
  mode: 'startup' | 'resync' | 'delta'
  now: number
  /** new decisions, by id; each iteration reads the list afresh */
  added: Iterable<BlockEntry>
  deleted: Iterable<RemovedDecision>
  /** at most this many decisions in all: small answers are sent as one body */
  bound: number
  /** moves the bouncer's cursor past this pull; call once the answer has been sent whole */
  commit(): void
}

/** A whole-list or range query, read from the shared snapshot as it is written. */
export interface DecisionScan {
  now: number
  /** at most this many decisions */
  bound: number
  decisions: Iterable<CrowdsecDecision>
}

export interface PullOptions {
  startup: boolean
  filter: DecisionFilter
  /** LAPI's startup answer lists recently ended decisions as deleted (not for crowdsec-firewall-bouncer) */
  deletedOnStartup: boolean
}

function byId(a: { id: number }, b: { id: number }): number {
  return a.id - b.id
}

/**
 * Turns the blocklist into CrowdSec decisions: point queries (`GET /v1/decisions`) and per-bouncer deltas
 * (`GET /v1/decisions/stream`). LAPI keeps each bouncer's last pull time in its database; here each bouncer
 * has a cursor into the change journal, in memory. After a node restart (or when a bouncer has been away
 * longer than the journal holds) its next pull is answered as a resync: every active decision as new, which
 * bouncers apply idempotently. Removals they missed meanwhile are not replayed, but every decision they hold
 * carries its own duration and lapses on its own.
 */
export class DecisionFeed {
  readonly #view: BlocklistView
  readonly #journal: ChangeJournal
  readonly #clock: () => number
  readonly #cursors = new Map<string, number>()
  /** the one snapshot of the list that startup pulls, whole-list queries and SSE snapshots read */
  readonly snapshots: SnapshotCache

  constructor(
    view: BlocklistView,
    journal: ChangeJournal,
    options: { clock?: () => number; snapshotMaxLag?: number } = {},
  ) {
    this.#view = view
    this.#journal = journal
    this.#clock = options.clock ?? Date.now
    this.snapshots = new SnapshotCache(view, journal, {
      clock: this.#clock,
      ...(options.snapshotMaxLag !== undefined ? { maxLag: options.snapshotMaxLag } : {}),
    })
  }

  /**
   * Whether a query is answered by a lookup (one address, one value) rather than a pass over the whole list:
   * the live-mode hot path, small by nature.
   */
  static isPointQuery(q: DecisionQuery): boolean {
    const address = q.address
    if (address !== undefined) return (q.contains ?? true) && !address.isRange
    return q.value !== undefined
  }

  /** Active decisions matching the query, by id; [] for none (the route answers `null` then, as LAPI does). */
  query(q: DecisionQuery): CrowdsecDecision[] {
    if (!DecisionFeed.isPointQuery(q)) return [...this.scan(q).decisions]
    const now = this.#clock()
    let candidates: BlockEntry[]
    if (q.address !== undefined) {
      candidates = this.#view.lookup(q.address.canonical)
      if (candidates.length === 0) return []
    } else {
      const entry = this.#view.get(q.value as string)
      candidates = entry === undefined ? [] : [entry]
    }
    const out: CrowdsecDecision[] = []
    for (const entry of candidates) {
      if (entry.expiresAt > now && matchesFilter(entry, q)) out.push(toCrowdsecDecision(entry, now))
    }
    return out.length > 1 ? out.sort(byId) : out
  }

  /** A query over the whole list (no address, or a range), by id, read lazily from the shared snapshot. */
  scan(q: DecisionQuery): DecisionScan {
    const now = this.#clock()
    const read = this.snapshots.read()
    const address = q.address
    const contains = q.contains ?? true
    function* decisions(): Generator<CrowdsecDecision> {
      for (const entry of read.entries(now)) {
        if (!matchesFilter(entry, q)) continue
        if (address !== undefined) {
          let indicator: Indicator
          try {
            indicator = parseIndicator(entry.value)
          } catch {
            continue
          }
          if (!(contains ? indicatorContains(indicator, address) : indicatorContains(address, indicator)))
            continue
        }
        yield toCrowdsecDecision(entry, now)
      }
    }
    return { now, bound: read.bound, decisions: { [Symbol.iterator]: decisions } }
  }

  pull(bouncer: string, options: PullOptions): StreamPull {
    const now = this.#clock()
    const cursor = this.#cursors.get(bouncer)
    const records = !options.startup && cursor !== undefined ? this.#journal.since(cursor) : undefined
    if (records === undefined) {
      const mode = options.startup ? 'startup' : 'resync'
      const read = this.snapshots.read()
      const { filter } = options
      return {
        mode,
        now,
        added: {
          *[Symbol.iterator]() {
            for (const entry of read.entries(now)) if (matchesFilter(entry, filter)) yield entry
          },
        },
        deleted: {
          *[Symbol.iterator]() {
            if (!options.deletedOnStartup) return
            for (const removed of read.ended()) if (matchesFilter(removed.entry, filter)) yield removed
          },
        },
        bound: read.bound,
        commit: () => {
          this.#cursors.set(bouncer, read.head)
        },
      }
    }
    const head = this.#journal.head
    const { added, deleted } = collapse(records, now, options.filter)
    return {
      mode: 'delta',
      now,
      added,
      deleted,
      bound: added.length + deleted.length,
      commit: () => {
        this.#cursors.set(bouncer, head)
      },
    }
  }

  /** Drops a bouncer's cursor (when it is deleted). */
  forget(bouncer: string): void {
    this.#cursors.delete(bouncer)
  }

  /** Where a bouncer's cursor stands, for status pages and tests. */
  cursor(bouncer: string): number | undefined {
    return this.#cursors.get(bouncer)
  }
}

/**
 * The net effect of a run of changes: entries added and still on the list are new; entries that were on the
 * list before the run and have left it are deleted. One added and removed within the run was never seen by
 * the bouncer and is left out. A renewal (removed + added with a new id) shows as delete old, add new; bouncers
 * apply deletions before additions, so the value stays blocked.
 */
function collapse(
  records: JournalRecord[],
  now: number,
  filter: DecisionFilter,
): { added: BlockEntry[]; deleted: RemovedDecision[] } {
  const added = new Map<number, BlockEntry>()
  const deleted: RemovedDecision[] = []
  for (const { change, at } of records) {
    if (change.kind === 'added') {
      added.set(change.entry.id, change.entry)
    } else if (!added.delete(change.entry.id)) {
      if (matchesFilter(change.entry, filter)) deleted.push({ entry: change.entry, endedAt: at })
    }
  }
  const fresh: BlockEntry[] = []
  for (const entry of added.values()) {
    if (entry.expiresAt > now && matchesFilter(entry, filter)) fresh.push(entry)
  }
  return { added: fresh.sort(byId), deleted }
}
