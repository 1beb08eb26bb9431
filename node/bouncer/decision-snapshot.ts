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
 * the snapshot and the few changes after it (each read keeps those records, so this bounds them too, except
 * while a newer snapshot is being built).
 */
export const DEFAULT_SNAPSHOT_MAX_LAG = 1000

/**
 * Entries taken per turn of the event loop while a snapshot is built in the background: a node's list builds
 * each entry it hands out (formatting its address), about 0.5 s for 110,000 on a busy machine, which in one
 * piece would hold up every other request.
 */
export const SNAPSHOT_SLICE = 2000

interface Build {
  head: number
  now: number
  entries: Iterator<BlockEntry>
  values: string[]
  ids: number[]
  sorted: boolean
  /** the latest ending of each value, as the journal held them at `head` */
  latest: Map<string, RemovedDecision>
  done: Promise<void>
  resolve: () => void
}

/**
 * One snapshot of the blocklist, reused by every stream that starts while it is recent, instead of one copy
 * per connection: 300 clients asking for the whole list at once cost one snapshot, not 300. A newer one is
 * built in the background, a slice per turn of the event loop, once the list has changed `maxLag` times; until
 * it is done readers get the previous one and the changes after it. Only when there is none the journal can
 * bring up to date (the first read, or after the journal dropped what came after it) is the rest built at once.
 */
export class SnapshotCache {
  readonly #view: BlocklistView
  readonly #journal: ChangeJournal
  readonly #clock: () => number
  readonly #maxLag: number
  #current: DecisionSnapshot | undefined
  #build: Build | undefined
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

  /** Starts building a snapshot in the background (at start, so the first reader finds one ready). */
  warm(): Promise<void> {
    return this.#start().done
  }

  /** Abandons a build under way (the service is stopping). */
  stop(): void {
    this.#build?.resolve()
    this.#build = undefined
  }

  /** Resolves once no snapshot is being built. */
  async settled(): Promise<void> {
    while (this.#build !== undefined) await this.#build.done
  }

  /** A snapshot whose changes since are still held by the journal; a newer one is started past `maxLag`. */
  current(): DecisionSnapshot {
    const snap = this.#current
    if (snap !== undefined && this.#journal.since(snap.head, 0) !== undefined) {
      if (this.#journal.head - snap.head > this.#maxLag) this.#start()
      return snap
    }
    // nothing usable: finish a build under way (or a new one) now
    const build = this.#build !== undefined && this.#usable(this.#build) ? this.#build : this.#start()
    this.#step(build, Number.POSITIVE_INFINITY)
    return this.#current as DecisionSnapshot
  }

  /** Reads the latest snapshot brought up to the journal's head: what the list holds now, by id. */
  read(): SnapshotRead {
    const snap = this.current()
    const lag = this.#journal.since(snap.head) ?? []
    return new SnapshotRead(this.#view, snap, lag, this.#journal.head)
  }

  #usable(build: Build): boolean {
    return this.#journal.since(build.head, 0) !== undefined
  }

  #start(): Build {
    if (this.#build !== undefined && this.#usable(this.#build)) return this.#build
    this.#build?.resolve()
    const head = this.#journal.head
    // endings as of `head`, taken now: the journal moves on while the entries are read
    const latest = new Map<string, RemovedDecision>()
    for (const record of this.#journal.held()) {
      const change = record.change
      if (change.kind !== 'removed' || change.reason === 'replaced') continue
      latest.set(change.entry.value, { entry: change.entry, endedAt: record.at })
    }
    for (const [value] of latest) if (this.#view.get(value) !== undefined) latest.delete(value)
    let resolve = () => {}
    const done = new Promise<void>((r) => (resolve = r))
    const build: Build = {
      head,
      now: this.#clock(),
      entries: this.#view.entries(),
      values: [],
      ids: [],
      sorted: true,
      latest,
      done,
      resolve,
    }
    this.#build = build
    const tick = () => {
      if (this.#build !== build) return
      if (!this.#step(build, SNAPSHOT_SLICE)) setImmediate(tick)
    }
    setImmediate(tick)
    return build
  }

  /** Reads up to `count` entries into the build; true once it is finished (or abandoned). */
  #step(build: Build, count: number): boolean {
    if (this.#build !== build) return true
    if (!this.#usable(build)) {
      // the journal no longer holds what came after it: start again
      this.#build = undefined
      build.resolve()
      this.#start()
      return true
    }
    for (let i = 0; i < count; i++) {
      const next = build.entries.next()
      if (next.done === true) {
        this.#finish(build)
        return true
      }
      const entry = next.value
      if (entry.expiresAt <= build.now) continue
      if (build.ids.length > 0 && entry.id < build.ids[build.ids.length - 1]) build.sorted = false
      build.values.push(entry.value)
      build.ids.push(entry.id)
    }
    return false
  }

  #finish(build: Build): void {
    // Entries added while it was read belong to the changes after `head`, which readers replay: left out here.
    const later = new Set<number>()
    for (const { change } of this.#journal.since(build.head) ?? []) {
      if (change.kind === 'added') later.add(change.entry.id)
    }
    let order = Array.from(build.values.keys())
    if (later.size > 0) order = order.filter((i) => !later.has(build.ids[i]))
    if (!build.sorted) order.sort((a, b) => build.ids[a] - build.ids[b])
    const values = order.map((i) => build.values[i])
    const ids = Float64Array.from(order, (i) => build.ids[i])
    const ended = [...build.latest.values()].sort((a, b) => a.entry.id - b.entry.id)
    this.#current = { head: build.head, takenAt: build.now, values, ids, ended, rendered: new WeakMap() }
    this.#builds++
    this.#build = undefined
    build.resolve()
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

  /** The shared snapshot this read starts from (the exports sort it once for all their readers). */
  get snapshot(): DecisionSnapshot {
    return this.#snapshot
  }

  /** The entries active at `now` that were added after the snapshot (the tail of `entries(now)`). */
  added(now: number): Generator<BlockEntry> {
    return this.#lagEntries(now)
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
