import { parseIndicator, parseIp, type Indicator } from '../../protocol/indicator.ts'
import type { Decision } from '../detect/ensemble.ts'
import { banDuration, DEFAULT_BAN_GROWTH, type BanGrowth } from '../detect/ban-duration.ts'
import type { Logger } from '../logging/logger.ts'
import type { Store } from '../store/open-store.ts'
import { Allowlist, MIN_EVIDENCE_PREFIX, type AllowEntry, type AllowlistInit } from './allowlist.ts'
import { stripUndefined } from '../service-init.ts'
import type { BlockChange, BlockEntry, BlocklistView, BlockOrigin } from './block-entry.ts'
import { CidrTrie } from './cidr-trie.ts'
import { EntryTable } from './entry-table.ts'
import { DEFAULT_BLOCK_POLICY, type BlockPolicy, type BlockVerdict } from './decide-block.ts'
import { EvidenceBook, type EvidenceBookStats } from './evidence-book.ts'

/** `expiresAt` of an entry that never expires (the largest valid Date). */
export const NEVER = 8_640_000_000_000_000

export const DEFAULT_COMMUNITY_BAN_SECONDS = 4 * 3600
export const DEFAULT_SWEEP_MS = 30_000
export const DEFAULT_OFFENCE_MEMORY_MS = 30 * 24 * 3600_000
/**
 * A block already in force is renewed (new id, later expiry) only when the new evidence moves its end by at
 * least this share of its length: bouncers see a renewal as delete + add, so small extensions are not worth it.
 */
export const RENEWAL_MIN_EXTENSION = 0.25

export interface BlocklistInit {
  allowlist: Partial<AllowlistInit>
  policy: Partial<BlockPolicy>
  /** base ban for community blocks, grown for repeat offenders by `growth` */
  communityBanSeconds: number
  growth: BanGrowth
  /** how often expired entries are swept (they are also dropped lazily on lookup) */
  sweepMs: number
  /** an offence older than this no longer lengthens the next block */
  offenceMemoryMs: number
  /**
   * The broadest ranges evidence may block; manual entries are the admin's call. A peer claiming a /8 attacked
   * it says more about the peer than about the /8.
   */
  minEvidencePrefix: { 4: number; 6: number }
  maxEvidenceIndicators: number
  maxReportsPerIndicator: number
  maxLocalPerIndicator: number
}

export const BLOCKLIST_DEFAULTS: BlocklistInit = {
  allowlist: {},
  policy: {},
  communityBanSeconds: DEFAULT_COMMUNITY_BAN_SECONDS,
  growth: DEFAULT_BAN_GROWTH,
  sweepMs: DEFAULT_SWEEP_MS,
  offenceMemoryMs: DEFAULT_OFFENCE_MEMORY_MS,
  minEvidencePrefix: { ...MIN_EVIDENCE_PREFIX },
  maxEvidenceIndicators: 100_000,
  maxReportsPerIndicator: 32,
  maxLocalPerIndicator: 8,
}

export interface BlocklistComponents {
  store: Store
  /** current trust in a peer, 0..1 (the reputation book); unknown peers are untrusted by default */
  trustOf?: (peerId: string) => number
  /** supply one to share it (e.g. with the API); otherwise built from `init.allowlist` */
  allowlist?: Allowlist
  clock?: () => number
  logger?: Logger
}

export interface ManualBlock {
  /** defaults to never expiring */
  expiresAt?: number
  durationSeconds?: number
  scenario?: string
  /** why, in the admin's words */
  reason?: string
}

export type ApplyOutcome =
  | { action: 'added'; entry: BlockEntry }
  /** an entry in force was renewed with a later expiry (new id) */
  | { action: 'renewed'; entry: BlockEntry }
  /** a community entry whose evidence no longer holds was removed */
  | { action: 'withdrawn'; entry: BlockEntry }
  | {
      action: 'unchanged'
      entry?: BlockEntry
      reason: 'not-blocked' | 'already-blocked' | 'manual-entry-wins'
    }
  | { action: 'skipped'; reason: 'allowlisted' | 'too-broad' | 'invalid' | 'expired' }

export interface BlocklistStats {
  size: number
  byOrigin: Record<BlockOrigin, number>
  added: number
  removed: number
  skippedAllowlisted: number
  skippedTooBroad: number
  skippedInvalid: number
  evidence: EvidenceBookStats
}

export class AllowlistedError extends Error {
  override name = 'AllowlistedError'
  readonly allowed: AllowEntry[]
  constructor(value: string, allowed: AllowEntry[]) {
    const shown = allowed
      .slice(0, 3)
      .map((a) => `${a.cidr} (${a.note})`)
      .join(', ')
    super(`${value} overlaps the allowlist: ${shown}${allowed.length > 3 ? ', …' : ''}`)
    this.allowed = allowed
  }
}

export class InvalidBlockError extends Error {
  override name = 'InvalidBlockError'
}

/** Changed before open(): ids would restart from 1 and collide with stored ones. */
export class BlocklistNotOpenError extends Error {
  override name = 'BlocklistNotOpenError'
}

interface OffenceRecord {
  count: number
  at: number
}

interface Candidate {
  indicator: Indicator
  origin: BlockOrigin
  scenario: string
  score: number
  reasons: string[]
  reporters: string[]
  /** the ban length for this offence, or an absolute expiry when the source fixed one */
  expiry: (offence: number, now: number) => number
}

/** Removals are read and written to the store this many at a time (sweeps of many expired entries). */
const REMOVE_BATCH = 1000

function sublevels(store: Store) {
  const root = store.sublevel<string, string>('blocklist', { valueEncoding: 'utf8' })
  return {
    root,
    entries: root.sublevel<string, string>('entries', { valueEncoding: 'utf8' }),
    offences: root.sublevel<string, string>('offences', { valueEncoding: 'utf8' }),
    meta: root.sublevel<string, string>('meta', { valueEncoding: 'utf8' }),
  }
}

/**
 * Active entries as stored, expired ones left out, without opening a Blocklist: for `shieldwall export` on a
 * stopped node.
 */
export async function readStoredEntries(store: Store, now: number = Date.now()): Promise<BlockEntry[]> {
  const out: BlockEntry[] = []
  for await (const raw of sublevels(store).entries.values()) {
    const entry = JSON.parse(raw) as BlockEntry
    if (entry.expiresAt > now) out.push(entry)
  }
  return out
}

/**
 * Writes entries into a stopped node's store, `batchSize` to a write, as a Blocklist would have stored them;
 * the next open() loads them. For imports and for benchmarks that need a million entries without a million
 * sequential mutations. Values must be canonical and ids unique; nothing else is checked.
 */
export async function writeStoredEntries(
  store: Store,
  entries: Iterable<BlockEntry>,
  batchSize = 10_000,
): Promise<number> {
  const { entries: db } = sublevels(store)
  let batch: { type: 'put'; key: string; value: string }[] = []
  let written = 0
  for (const entry of entries) {
    batch.push({ type: 'put', key: entry.value, value: JSON.stringify(entry) })
    if (batch.length >= batchSize) {
      await db.batch(batch)
      written += batch.length
      batch = []
    }
  }
  if (batch.length > 0) await db.batch(batch)
  return written + batch.length
}

/**
 * The node's blocklist: what it blocks, why, and until when. Entries come from three paths — admins (`add`),
 * this node's detectors (`applyLocal`), and weighed evidence (`applyEvidence`, normally through `evidence`) —
 * and all of them give way to the allowlist. Persisted whole in the `blocklist` sublevel (entries, per-value
 * offence counts that outlive their entries, the id counter), so entries, ids and repeat-offender history
 * survive restarts.
 *
 * In memory each entry is a slot of an EntryTable (numbers, interned scenario and reporters, the address as
 * bits) indexed by a CidrTrie of slots: a million entries in about 110 MB rather than 300. So `get`, `lookup`
 * and `entries` build fresh BlockEntry objects whose `reasons` is a one-line summary and whose `reporters`
 * holds at most HELD_REPORTERS; `details()` and `withDetails()` read the full entries back from the store.
 * Listeners get the full entry: the one just added, or the stored one that was removed.
 *
 * Mutations run one after another; each updates memory, tells listeners synchronously, and resolves once
 * it is on disk.
 */
export class Blocklist implements BlocklistView {
  readonly allowlist: Allowlist
  readonly evidence: EvidenceBook<ApplyOutcome>
  readonly #init: BlocklistInit
  readonly #policy: BlockPolicy
  readonly #db: ReturnType<typeof sublevels>
  readonly #clock: () => number
  readonly #log?: Logger
  readonly #trie = new CidrTrie<number>()
  readonly #table = new EntryTable()
  readonly #listeners = new Set<(change: BlockChange) => void>()
  readonly #byOrigin: Record<BlockOrigin, number> = { local: 0, community: 0, manual: 0 }
  /** values with a lazy expiry queued, so a hot lookup does not queue it twice */
  readonly #expiring = new Set<string>()
  #chain: Promise<unknown> = Promise.resolve()
  #nextId = 1
  #opened = false
  #timer?: NodeJS.Timeout
  #unsubscribeAllowlist?: () => void
  readonly #counts = { added: 0, removed: 0, skippedAllowlisted: 0, skippedTooBroad: 0, skippedInvalid: 0 }

  constructor(init: BlocklistInit, components: BlocklistComponents) {
    this.#init = init
    this.#policy = { ...DEFAULT_BLOCK_POLICY, ...stripUndefined(init.policy) }
    this.#db = sublevels(components.store)
    this.#clock = components.clock ?? Date.now
    this.#log = components.logger?.child({ component: 'blocklist' })
    this.allowlist = components.allowlist ?? new Allowlist(init.allowlist)
    this.evidence = new EvidenceBook<ApplyOutcome>(
      {
        policy: this.#policy,
        maxIndicators: init.maxEvidenceIndicators,
        maxReportsPerIndicator: init.maxReportsPerIndicator,
        maxLocalPerIndicator: init.maxLocalPerIndicator,
      },
      {
        apply: (value, verdict) => this.applyEvidence(value, verdict),
        trustOf: components.trustOf ?? (() => 0),
        admits: (indicator) => this.#admitEvidence(indicator) === undefined,
        clock: this.#clock,
      },
    )
  }

  get policy(): Readonly<BlockPolicy> {
    return this.#policy
  }

  /** Approximate bytes of the in-memory index (trie and entry columns), for benchmarks and status pages. */
  get footprint(): number {
    return this.#trie.footprint + this.#table.footprint
  }

  // ---- lifecycle ----

  /** Loads entries, ids and offence counts from the store; entries that expired while stopped are dropped. */
  async open(): Promise<void> {
    if (this.#opened) return
    const now = this.#clock()
    const drop: string[] = []
    let maxId = 0
    for await (const [key, raw] of this.#db.entries.iterator()) {
      let entry: BlockEntry
      let indicator: Indicator
      try {
        entry = JSON.parse(raw) as BlockEntry
        indicator = parseIndicator(entry.value)
      } catch {
        drop.push(key)
        continue
      }
      maxId = Math.max(maxId, entry.id)
      if (entry.expiresAt <= now || this.#trie.get(indicator) !== undefined) drop.push(key)
      else this.#index(indicator, entry)
    }
    const staleOffences: string[] = []
    for await (const [key, raw] of this.#db.offences.iterator()) {
      const record = JSON.parse(raw) as OffenceRecord
      if (record.at < now - this.#init.offenceMemoryMs) staleOffences.push(key)
    }
    const storedNext = Number((await this.#db.meta.get('nextId')) ?? 1)
    this.#nextId = Math.max(Number.isSafeInteger(storedNext) ? storedNext : 1, maxId + 1)
    await this.#db.root.batch([
      ...drop.map((key) => ({ type: 'del' as const, sublevel: this.#db.entries, key })),
      ...staleOffences.map((key) => ({ type: 'del' as const, sublevel: this.#db.offences, key })),
    ])
    this.#unsubscribeAllowlist = this.allowlist.onAdd((_, range) => void this.#purgeAllowed(range))
    this.#opened = true
  }

  async start(): Promise<void> {
    await this.open()
    this.#timer = setInterval(() => {
      this.sweep().catch((err: Error) => this.#log?.error({ err }, 'blocklist sweep failed'))
    }, this.#init.sweepMs).unref()
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer)
    this.#timer = undefined
    this.#unsubscribeAllowlist?.()
    await this.#chain
  }

  // ---- BlocklistView ----

  /** entries held, including any that expired since the last sweep and have not been looked up */
  get size(): number {
    return this.#trie.size
  }

  get(value: string): BlockEntry | undefined {
    const slot = this.#liveSlot(value, this.#clock())
    return slot !== undefined ? this.#table.entry(slot) : undefined
  }

  /**
   * Whether weighing more evidence for `value` would change nothing now: it is blocked, and so far from its end
   * that no renewal would follow (`RENEWAL_MIN_EXTENSION`), or blocked by hand. Supporting evidence never lifts
   * a block, so such evidence can be kept and weighed later (blocklist summaries' stand-ins, which arrive in
   * bulk after the alerts they restate have done their work).
   */
  settled(value: string): boolean {
    // read from the table: asked for each entry of each summary, it builds no BlockEntry
    const now = this.#clock()
    const slot = this.#liveSlot(value, now)
    if (slot === undefined) return false
    const table = this.#table
    if (table.origin(slot) === 'manual') return true
    const length = table.expiresAt(slot) - table.createdAt(slot)
    return table.expiresAt(slot) - now > (1 - RENEWAL_MIN_EXTENSION) * length
  }

  lookup(ip: string): BlockEntry[] {
    // parsed once for both tries: this is the enforcement hot path
    const bytes = parseIp(ip)
    if (bytes === undefined) return []
    const found = this.#trie.covering(bytes)
    if (found.length === 0) return []
    // entries cannot overlap the allowlist when added, but an address allowed later wins until they are purged
    if (this.allowlist.isAllowed(bytes)) return []
    const now = this.#clock()
    const out: BlockEntry[] = []
    for (const slot of found) if (this.#live(slot, now)) out.push(this.#table.entry(slot))
    return out
  }

  *entries(): IterableIterator<BlockEntry> {
    const now = this.#clock()
    const table = this.#table
    for (const slot of table.slots()) if (table.expiresAt(slot) > now) yield table.entry(slot)
  }

  onChange(listener: (change: BlockChange) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  // ---- full entries ----

  /** The active entry for exactly this value with all its reasons and reporters, read from the store. */
  async details(value: string): Promise<BlockEntry | undefined> {
    const entry = this.get(value)
    return entry === undefined ? undefined : (await this.withDetails([entry]))[0]
  }

  /**
   * The same entries with their stored reasons and reporters, in one read. An entry replaced meanwhile (its
   * stored id differs) is returned as given.
   */
  async withDetails(entries: readonly BlockEntry[]): Promise<BlockEntry[]> {
    if (entries.length === 0) return []
    const raws = await this.#db.entries.getMany(entries.map((e) => e.value))
    return entries.map((e, i) => {
      const stored = parseStored(raws[i])
      return stored?.id === e.id ? stored : e
    })
  }

  /**
   * The newest active entries (by creation, then id), at most `limit`, with how many matched: what a list
   * view shows, chosen from the columns without building an object per entry.
   */
  recent(options: { limit: number; origin?: BlockOrigin }): { total: number; entries: BlockEntry[] } {
    const now = this.#clock()
    const table = this.#table
    const limit = Math.max(0, Math.floor(options.limit))
    // a min-heap of the `limit` newest slots seen so far, oldest at the top
    const heap: number[] = []
    const older = (a: number, b: number) =>
      table.createdAt(a) < table.createdAt(b) ||
      (table.createdAt(a) === table.createdAt(b) && table.id(a) < table.id(b))
    let total = 0
    for (const slot of table.slots()) {
      if (table.expiresAt(slot) <= now) continue
      if (options.origin !== undefined && table.origin(slot) !== options.origin) continue
      total++
      if (limit === 0) continue
      if (heap.length < limit) {
        heap.push(slot)
        siftUp(heap, heap.length - 1, older)
      } else if (older(heap[0], slot)) {
        heap[0] = slot
        siftDown(heap, 0, older)
      }
    }
    heap.sort((a, b) => (older(a, b) ? 1 : older(b, a) ? -1 : 0))
    return { total, entries: heap.map((slot) => table.entry(slot)) }
  }

  // ---- mutations ----

  /**
   * Blocks a value by hand (replacing any entry in force). Throws InvalidIndicatorError for bad text,
   * AllowlistedError when it overlaps the allowlist, InvalidBlockError for an expiry in the past.
   */
  async add(value: string, block: ManualBlock = {}): Promise<BlockEntry> {
    const indicator = parseIndicator(value)
    const allowed = this.allowlist.overlaps(indicator)
    if (allowed.length > 0) throw new AllowlistedError(indicator.canonical, allowed)
    const { durationSeconds, expiresAt } = block
    if (durationSeconds !== undefined && !(Number.isFinite(durationSeconds) && durationSeconds > 0)) {
      throw new InvalidBlockError(`durationSeconds must be a positive number, got ${durationSeconds}`)
    }
    if (expiresAt !== undefined && !(Number.isFinite(expiresAt) && expiresAt > this.#clock())) {
      throw new InvalidBlockError(`expiresAt must be in the future, got ${expiresAt}`)
    }
    const reason = block.reason ?? 'blocked by an administrator'
    return this.#enqueue(async () => {
      const outcome = await this.#activate(
        {
          indicator,
          origin: 'manual',
          scenario: block.scenario ?? 'manual',
          score: 1,
          reasons: [reason],
          reporters: [],
          expiry: (_, now) =>
            expiresAt ?? (durationSeconds !== undefined ? now + durationSeconds * 1000 : NEVER),
        },
        true,
      )
      return (outcome as { entry: BlockEntry }).entry
    })
  }

  /** Removes the entry for exactly this value; the removed entry (as stored), or undefined when there was none. */
  async remove(value: string): Promise<BlockEntry | undefined> {
    const indicator = parseIndicator(value)
    return this.#enqueue(async () => {
      const slot = this.#trie.get(indicator)
      if (slot === undefined) return undefined
      return (await this.#remove([slot], 'manual'))[0]
    })
  }

  /** Acts on one of this node's own decisions (the detection service's `onDecision`). */
  applyLocal(decision: Decision): Promise<ApplyOutcome> {
    let indicator: Indicator
    try {
      indicator = parseIndicator(decision.ip)
    } catch {
      this.#counts.skippedInvalid++
      return Promise.resolve({ action: 'skipped', reason: 'invalid' })
    }
    const skip = this.#admitEvidence(indicator)
    if (skip !== undefined) return Promise.resolve({ action: 'skipped', reason: skip })
    void this.evidence.addLocal(
      indicator.canonical,
      { confidence: decision.confidence, scenario: decision.scenario, at: decision.decidedAt },
      false,
    )
    return this.#enqueue(async () => {
      if (decision.expiresAt <= this.#clock()) return { action: 'skipped', reason: 'expired' } as const
      return this.#activate({
        indicator,
        origin: 'local',
        scenario: decision.scenario,
        score: decision.confidence,
        reasons: decision.reasons,
        reporters: [],
        // the detector already lengthened the ban for its own repeat offenders
        expiry: () => decision.expiresAt,
      })
    })
  }

  /**
   * Acts on decideBlock's verdict for one indicator: blocks when it says so (for `communityBanSeconds`, grown
   * with the value's offence count), withdraws a community entry whose evidence no longer holds. Allowlisted
   * and too-broad values are skipped and counted.
   */
  applyEvidence(value: string, verdict: BlockVerdict): Promise<ApplyOutcome> {
    let indicator: Indicator
    try {
      indicator = parseIndicator(value)
    } catch {
      this.#counts.skippedInvalid++
      return Promise.resolve({ action: 'skipped', reason: 'invalid' })
    }
    const skip = this.#admitEvidence(indicator)
    if (skip !== undefined) return Promise.resolve({ action: 'skipped', reason: skip })
    return this.#enqueue(async (): Promise<ApplyOutcome> => {
      const slot = this.#trie.get(indicator)
      const live = slot !== undefined && this.#table.expiresAt(slot) > this.#clock() ? slot : undefined
      if (!verdict.block) {
        if (live !== undefined && this.#table.origin(live) === 'community') {
          // 'expired' because its evidence has: the union has no better word and enforcers treat both alike
          const [entry] = await this.#remove([live], 'expired')
          return { action: 'withdrawn', entry }
        }
        return {
          action: 'unchanged',
          reason: 'not-blocked',
          ...(live !== undefined ? { entry: this.#table.entry(live) } : {}),
        }
      }
      const base = this.#init.communityBanSeconds
      return this.#activate({
        indicator,
        origin: verdict.origin ?? 'community',
        scenario: verdict.scenario,
        score: verdict.score,
        reasons: verdict.reasons,
        reporters: verdict.reporters,
        expiry: (offence, now) => now + banDuration(base, offence, this.#init.growth) * 1000,
      })
    })
  }

  /** Removes every entry that has expired; returns how many. */
  sweep(now: number = this.#clock()): Promise<number> {
    return this.#enqueue(async () => {
      const expired: number[] = []
      for (const slot of this.#table.slots()) if (this.#table.expiresAt(slot) <= now) expired.push(slot)
      return (await this.#remove(expired, 'expired')).length
    })
  }

  stats(): BlocklistStats {
    return {
      size: this.size,
      byOrigin: { ...this.#byOrigin },
      ...this.#counts,
      evidence: this.evidence.stats(),
    }
  }

  // ---- internals ----

  #enqueue<T>(task: () => Promise<T>): Promise<T> {
    if (!this.#opened)
      return Promise.reject(new BlocklistNotOpenError('open() the blocklist before changing it'))
    const result = this.#chain.then(task)
    this.#chain = result.catch(() => undefined)
    return result
  }

  /** Why evidence about this indicator is not acted on (counted), or undefined when it may be. */
  #admitEvidence(indicator: Indicator): 'allowlisted' | 'too-broad' | undefined {
    if (indicator.prefix < this.#init.minEvidencePrefix[indicator.family]) {
      this.#counts.skippedTooBroad++
      return 'too-broad'
    }
    if (this.allowlist.overlaps(indicator).length > 0) {
      this.#counts.skippedAllowlisted++
      return 'allowlisted'
    }
    return undefined
  }

  /** the slot of the entry in force for exactly `value`, if any (undefined too for a value that is no indicator) */
  #liveSlot(value: string, now: number): number | undefined {
    let indicator: Indicator
    try {
      indicator = parseIndicator(value)
    } catch {
      return undefined
    }
    const slot = this.#trie.get(indicator)
    return slot !== undefined && this.#live(slot, now) ? slot : undefined
  }

  #live(slot: number, now: number): boolean {
    if (this.#table.expiresAt(slot) > now) return true
    const value = this.#table.value(slot)
    if (!this.#expiring.has(value)) {
      this.#expiring.add(value)
      const id = this.#table.id(slot)
      void this.#enqueue(async () => {
        this.#expiring.delete(value)
        // it may have been renewed or removed meanwhile
        const current = this.#trie.get(value)
        if (current === slot && this.#table.id(slot) === id) await this.#remove([slot], 'expired')
      }).catch((err: Error) => this.#log?.error({ err }, 'blocklist expiry failed'))
    }
    return false
  }

  async #offence(value: string, now: number): Promise<number> {
    const raw = await this.#db.offences.get(value)
    if (raw === undefined) return 0
    const record = JSON.parse(raw) as OffenceRecord
    return record.at < now - this.#init.offenceMemoryMs ? 0 : record.count
  }

  async #activate(candidate: Candidate, force = false): Promise<ApplyOutcome> {
    const now = this.#clock()
    const { indicator } = candidate
    const value = indicator.canonical
    const table = this.#table
    const existing = this.#trie.get(indicator)
    const current = existing !== undefined && table.expiresAt(existing) > now ? existing : undefined
    if (existing !== undefined && current === undefined) await this.#remove([existing], 'expired')
    // a renewal continues the same offence; a new activation is the next one
    const offence = current !== undefined ? table.offence(current) : (await this.#offence(value, now)) + 1
    const expiresAt = Math.min(NEVER, candidate.expiry(offence, now))
    if (current !== undefined && !force) {
      if (table.origin(current) === 'manual')
        return { action: 'unchanged', entry: table.entry(current), reason: 'manual-entry-wins' }
      const length = table.expiresAt(current) - table.createdAt(current)
      if (expiresAt - table.expiresAt(current) < RENEWAL_MIN_EXTENSION * length) {
        return { action: 'unchanged', entry: table.entry(current), reason: 'already-blocked' }
      }
    }
    const entry: BlockEntry = {
      id: this.#nextId++,
      value,
      scope: indicator.isRange ? 'range' : 'ip',
      type: 'ban',
      origin: candidate.origin,
      scenario: candidate.scenario,
      score: candidate.score,
      reasons: candidate.reasons,
      reporters: candidate.reporters,
      createdAt: now,
      expiresAt,
      offence,
    }
    // the entry being replaced, whole, for listeners: read before the write below overwrites it
    const replaced = current !== undefined ? (await this.withDetails([table.entry(current)]))[0] : undefined
    await this.#db.root.batch([
      { type: 'put', sublevel: this.#db.entries, key: value, value: JSON.stringify(entry) },
      { type: 'put', sublevel: this.#db.meta, key: 'nextId', value: String(this.#nextId) },
      {
        type: 'put',
        sublevel: this.#db.offences,
        key: value,
        value: JSON.stringify({ count: offence, at: now } satisfies OffenceRecord),
      },
    ])
    if (current !== undefined) this.#unindex(current, indicator)
    this.#index(indicator, entry)
    if (replaced !== undefined) this.#emit({ kind: 'removed', entry: replaced, reason: 'replaced' })
    this.#counts.added++
    this.#emit({ kind: 'added', entry })
    return replaced !== undefined ? { action: 'renewed', entry } : { action: 'added', entry }
  }

  /**
   * Removes these slots' entries from the store and then from memory, telling listeners with the stored
   * (full) entries, a batch at a time; returns the entries removed.
   */
  async #remove(
    slots: readonly number[],
    reason: 'expired' | 'manual' | 'allowlisted',
  ): Promise<BlockEntry[]> {
    const removed: BlockEntry[] = []
    for (let at = 0; at < slots.length; at += REMOVE_BATCH) {
      const chunk = slots.slice(at, at + REMOVE_BATCH).filter((slot) => this.#table.used(slot))
      const ids = chunk.map((slot) => this.#table.id(slot))
      const full = await this.withDetails(chunk.map((slot) => this.#table.entry(slot)))
      await this.#db.entries.batch(full.map((e) => ({ type: 'del' as const, key: e.value })))
      for (let i = 0; i < chunk.length; i++) {
        const slot = chunk[i]
        const entry = full[i]
        if (!this.#table.used(slot) || this.#table.id(slot) !== ids[i]) continue
        this.#unindex(slot, entry.value)
        this.#counts.removed++
        removed.push(entry)
        this.#emit({ kind: 'removed', entry, reason })
      }
    }
    return removed
  }

  #index(indicator: Indicator, entry: BlockEntry): void {
    this.#trie.set(indicator, this.#table.put(indicator, entry))
    this.#byOrigin[entry.origin]++
  }

  #unindex(slot: number, key: Indicator | string): void {
    this.#byOrigin[this.#table.origin(slot)]--
    this.#trie.delete(key)
    this.#table.free(slot)
  }

  async #purgeAllowed(range: Indicator): Promise<void> {
    await this.#enqueue(async () => {
      await this.#remove(this.#trie.overlapping(range), 'allowlisted')
    }).catch((err: Error) => this.#log?.error({ err }, 'blocklist allowlist purge failed'))
  }

  #emit(change: BlockChange): void {
    for (const listener of this.#listeners) {
      try {
        listener(change)
      } catch (err) {
        // one broken enforcer must not stop the others hearing about the change
        this.#log?.error({ err }, 'blocklist listener failed')
      }
    }
  }
}

function parseStored(raw: string | undefined): BlockEntry | undefined {
  if (raw === undefined) return undefined
  try {
    return JSON.parse(raw) as BlockEntry
  } catch {
    return undefined
  }
}

function siftUp(heap: number[], i: number, less: (a: number, b: number) => boolean): void {
  while (i > 0) {
    const parent = (i - 1) >> 1
    if (!less(heap[i], heap[parent])) return
    ;[heap[i], heap[parent]] = [heap[parent], heap[i]]
    i = parent
  }
}

function siftDown(heap: number[], i: number, less: (a: number, b: number) => boolean): void {
  for (;;) {
    const l = 2 * i + 1
    const r = l + 1
    let m = i
    if (l < heap.length && less(heap[l], heap[m])) m = l
    if (r < heap.length && less(heap[r], heap[m])) m = r
    if (m === i) return
    ;[heap[i], heap[m]] = [heap[m], heap[i]]
    i = m
  }
}

/** js-libp2p style factory: every init field optional and defaulted here, once. */
export function blocklist(init: Partial<BlocklistInit> = {}): (components: BlocklistComponents) => Blocklist {
  const merged: BlocklistInit = { ...BLOCKLIST_DEFAULTS, ...stripUndefined(init) }
  return (components) => new Blocklist(merged, components)
}
