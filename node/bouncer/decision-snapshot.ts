import type { BlockEntry, BlocklistView } from '../blocklist/block-entry.ts'
import type { ChangeJournal, JournalRecord } from './change-journal.ts'

/** An entry that left the list, and when (expiry or removal). */
export interface RemovedDecision {
  entry: BlockEntry
  /** when it left the list (expiry or removal) */
  endedAt: number
}

/**
 * The blocklist as it stood at one journal position, shared by every stream that starts while it is current.
 * It holds each entry's value and id, not the entry: a node's blocklist builds entries afresh on each read
 * (about 250 bytes of heap apiece, 27 MB for 110,000), so the values are looked up again as they are written,
 * a few hundred at a time, and only what the client has asked for is ever built.
 */
export interface DecisionSnapshot {
  /** the journal position it reflects */
  readonly head: number
  readonly takenAt: number
  /** active values at `head`, by entry id */
  readonly values: readonly string[]
  /** the entry id each value had at `head` (same order) */
  readonly ids: Float64Array
  /** the latest ending of each value the journal still held at `head` and that was not blocked then */
  readonly ended: readonly RemovedDecision[]
  /**
   * Entries as a renderer wrote them, by position, kept as readers first ask for them and shared by the next:
   * a hundred clients reading the same snapshot serialize each entry once. Only for renderings that depend on
   * the entry alone (an id is one activation, which does not change).
   */
  readonly rendered: WeakMap<(entry: BlockEntry) => string, Array<string | undefined>>
}

/**
 * Rebuild once this many changes have come after the current snapshot. Up to then a stream starting now reads
 * the snapshot and the few changes after it (each read keeps those records, so this bounds them too).
 */
export const DEFAULT_SNAPSHOT_MAX_LAG = 1000

/**
 * One snapshot of the blocklist, reused by every stream that starts while it is recent, instead of one copy
 * per connection: 300 clients asking for the whole list at once cost one snapshot, not 300.
 */
export class SnapshotCache {
  readonly #view: BlocklistView
  readonly #journal: ChangeJournal
  readonly #clock: () => number
  readonly #maxLag: number
  #current: DecisionSnapshot | undefined
  #builds = 0

  constructor(
    view: BlocklistView,
    journal: ChangeJournal,
    options: { clock?: () => number; maxLag?: number } = {},
  ) {
    this.#view = view
    this.#journal = journal
    this.#clock = options.clock ?? Date.now
    this.#maxLag = options.maxLag ?? DEFAULT_SNAPSHOT_MAX_LAG
  }

  /** How many snapshots were built; for tests and status. */
  get builds(): number {
    return this.#builds
  }

  /** A snapshot whose changes since are still held by the journal and few enough to replay. */
  current(): DecisionSnapshot {
    const snap = this.#current
    const head = this.#journal.head
    if (
      snap !== undefined &&
      head - snap.head <= this.#maxLag &&
      this.#journal.since(snap.head, 0) !== undefined
    ) {
      return snap
    }
    this.#current = this.#build()
    return this.#current
  }

  /** Reads the latest snapshot brought up to the journal's head: what the list holds now, by id. */
  read(): SnapshotRead {
    const snap = this.current()
    const lag = this.#journal.since(snap.head) ?? []
    return new SnapshotRead(this.#view, snap, lag, this.#journal.head)
  }

  #build(): DecisionSnapshot {
    const now = this.#clock()
    const head = this.#journal.head
    let values: string[] = []
    const idList: number[] = []
    let sorted = true
    for (const entry of this.#view.entries()) {
      if (entry.expiresAt <= now) continue
      if (idList.length > 0 && entry.id < idList[idList.length - 1]) sorted = false
      values.push(entry.value)
      idList.push(entry.id)
    }
    let ids = Float64Array.from(idList)
    if (!sorted) {
      const order = Array.from(values.keys()).sort((a, b) => idList[a] - idList[b])
      const unsorted = values
      values = order.map((i) => unsorted[i])
      ids = Float64Array.from(order, (i) => idList[i])
    }
    const latest = new Map<string, RemovedDecision>()
    for (const record of this.#journal.held()) {
      const change = record.change
      if (change.kind !== 'removed' || change.reason === 'replaced') continue
      latest.set(change.entry.value, { entry: change.entry, endedAt: record.at })
    }
    // bounded by the journal; the list has one entry per value, so a lookup says whether it is blocked
    const ended = [...latest.values()]
      .filter((r) => this.#view.get(r.entry.value) === undefined)
      .sort((a, b) => a.entry.id - b.entry.id)
    this.#builds++
    return { head, takenAt: now, values, ids, ended, rendered: new WeakMap() }
  }
}

/**
 * One stream's view of a snapshot plus the changes after it, up to `head`: entries are looked up as they are
 * taken, so what is written is the list as it is then. An entry removed meanwhile is left out (its removal
 * follows in the changes after `head`, which readers apply harmlessly); one renewed since is written as its
 * new activation, once.
 */
export class SnapshotRead {
  readonly head: number
  readonly #view: BlocklistView
  readonly #snapshot: DecisionSnapshot
  readonly #lag: readonly JournalRecord[]

  constructor(view: BlocklistView, snapshot: DecisionSnapshot, lag: readonly JournalRecord[], head: number) {
    this.#view = view
    this.#snapshot = snapshot
    this.#lag = lag
    this.head = head
  }

  /** At most this many entries and endings; small reads are answered in one piece. */
  get bound(): number {
    return this.#snapshot.values.length + this.#snapshot.ended.length + this.#lag.length
  }

  /** Every entry active at `now`, by id: the snapshot's, then those added after it. */
  *entries(now: number): Generator<BlockEntry> {
    const { values, ids } = this.#snapshot
    for (let i = 0; i < values.length; i++) {
      const entry = this.#view.get(values[i])
      // a different id is a renewal after the snapshot: it comes with the later changes
      if (entry !== undefined && entry.id === ids[i] && entry.expiresAt > now) yield entry
    }
    yield* this.#lagEntries(now)
  }

  /**
   * `entries(now)` through `render`, the snapshot's part from (and into) its shared cache: `render` must depend
   * on the entry alone, and be one function for the life of the process (it is the cache's key).
   */
  *rendered(now: number, render: (entry: BlockEntry) => string): Generator<string> {
    const { values, ids } = this.#snapshot
    let cache = this.#snapshot.rendered.get(render)
    if (cache === undefined) {
      cache = new Array<string | undefined>(values.length)
      this.#snapshot.rendered.set(render, cache)
    }
    for (let i = 0; i < values.length; i++) {
      const entry = this.#view.get(values[i])
      if (entry === undefined || entry.id !== ids[i] || entry.expiresAt <= now) continue
      yield (cache[i] ??= render(entry))
    }
    for (const entry of this.#lagEntries(now)) yield render(entry)
  }

  *#lagEntries(now: number): Generator<BlockEntry> {
    for (const { change } of this.#lag) {
      if (change.kind !== 'added') continue
      const entry = this.#view.get(change.entry.value)
      if (entry !== undefined && entry.id === change.entry.id && entry.expiresAt > now) yield entry
    }
  }

  /** Recent endings of values not blocked now, by id (LAPI's `deleted` at startup). */
  *ended(): Generator<RemovedDecision> {
    const later = new Map<string, RemovedDecision>()
    for (const { change, at } of this.#lag) {
      if (change.kind === 'removed' && change.reason !== 'replaced') {
        later.set(change.entry.value, { entry: change.entry, endedAt: at })
      }
    }
    for (const removed of this.#snapshot.ended) {
      if (!later.has(removed.entry.value) && this.#view.get(removed.entry.value) === undefined) yield removed
    }
    for (const removed of later.values()) {
      if (this.#view.get(removed.entry.value) === undefined) yield removed
    }
  }
}
