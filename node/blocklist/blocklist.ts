import { parseIndicator, type Indicator } from '../../protocol/indicator.ts'
import type { Decision } from '../detect/ensemble.ts'
import { banDuration, DEFAULT_BAN_GROWTH, type BanGrowth } from '../detect/ban-duration.ts'
import type { Logger } from '../logging/logger.ts'
import type { Store } from '../store/open-store.ts'
import { Allowlist, stripUndefined, type AllowEntry, type AllowlistInit } from './allowlist.ts'
import type { BlockChange, BlockEntry, BlocklistView, BlockOrigin } from './block-entry.ts'
import { CidrTrie } from './cidr-trie.ts'
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
  minEvidencePrefix: { 4: 16, 6: 32 },
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
  value: string
  scope: BlockEntry['scope']
  origin: BlockOrigin
  scenario: string
  score: number
  reasons: string[]
  reporters: string[]
  /** the ban length for this offence, or an absolute expiry when the source fixed one */
  expiry: (offence: number, now: number) => number
}

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
 * The node's blocklist: what it blocks, why, and until when. Entries come from three paths — admins (`add`),
 * this node's detectors (`applyLocal`), and weighed evidence (`applyEvidence`, normally through `evidence`) —
 * and all of them give way to the allowlist. Kept in memory in a CidrTrie for lookups, persisted in the
 * `blocklist` sublevel (entries, per-value offence counts that outlive their entries, the id counter), so
 * entries, ids and repeat-offender history survive restarts.
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
  readonly #trie = new CidrTrie<BlockEntry>()
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

  // ---- lifecycle ----

  /** Loads entries, ids and offence counts from the store; entries that expired while stopped are dropped. */
  async open(): Promise<void> {
    if (this.#opened) return
    const now = this.#clock()
    const drop: string[] = []
    let maxId = 0
    for await (const [key, raw] of this.#db.entries.iterator()) {
      let entry: BlockEntry
      try {
        entry = JSON.parse(raw) as BlockEntry
        parseIndicator(entry.value)
      } catch {
        drop.push(key)
        continue
      }
      maxId = Math.max(maxId, entry.id)
      if (entry.expiresAt <= now) drop.push(key)
      else this.#index(entry)
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
    let indicator: Indicator
    try {
      indicator = parseIndicator(value)
    } catch {
      return undefined
    }
    const entry = this.#trie.get(indicator)
    return entry === undefined || this.#live(entry, this.#clock()) ? entry : undefined
  }

  lookup(ip: string): BlockEntry[] {
    const found = this.#trie.covering(ip)
    if (found.length === 0) return found
    // entries cannot overlap the allowlist when added, but an address allowed later wins until they are purged
    if (this.allowlist.isAllowed(ip)) return []
    const now = this.#clock()
    return found.filter((e) => this.#live(e, now))
  }

  *entries(): IterableIterator<BlockEntry> {
    const now = this.#clock()
    for (const entry of this.#trie.values()) if (entry.expiresAt > now) yield entry
  }

  onChange(listener: (change: BlockChange) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
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
          ...this.#shape(indicator),
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

  /** Removes the entry for exactly this value; the removed entry, or undefined when there was none. */
  async remove(value: string): Promise<BlockEntry | undefined> {
    const indicator = parseIndicator(value)
    return this.#enqueue(async () => {
      const entry = this.#trie.get(indicator)
      if (entry === undefined) return undefined
      await this.#remove(entry, 'manual')
      return entry
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
        ...this.#shape(indicator),
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
      const current = this.#trie.get(indicator)
      const live = current !== undefined && current.expiresAt > this.#clock() ? current : undefined
      if (!verdict.block) {
        if (live?.origin === 'community') {
          // 'expired' because its evidence has: the union has no better word and enforcers treat both alike
          await this.#remove(live, 'expired')
          return { action: 'withdrawn', entry: live }
        }
        return { action: 'unchanged', reason: 'not-blocked', ...(live ? { entry: live } : {}) }
      }
      const base = this.#init.communityBanSeconds
      return this.#activate({
        ...this.#shape(indicator),
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
      const expired: BlockEntry[] = []
      for (const entry of this.#trie.values()) if (entry.expiresAt <= now) expired.push(entry)
      for (const entry of expired) await this.#remove(entry, 'expired')
      return expired.length
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

  #shape(indicator: Indicator): Pick<Candidate, 'value' | 'scope'> {
    return { value: indicator.canonical, scope: indicator.isRange ? 'range' : 'ip' }
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

  #live(entry: BlockEntry, now: number): boolean {
    if (entry.expiresAt > now) return true
    if (!this.#expiring.has(entry.value)) {
      this.#expiring.add(entry.value)
      void this.#enqueue(async () => {
        this.#expiring.delete(entry.value)
        // it may have been renewed or removed meanwhile
        const current = this.#trie.get(entry.value)
        if (current === entry) await this.#remove(entry, 'expired')
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
    const existing = this.#trie.get(candidate.value)
    const current = existing !== undefined && existing.expiresAt > now ? existing : undefined
    if (existing !== undefined && current === undefined) await this.#remove(existing, 'expired')
    // a renewal continues the same offence; a new activation is the next one
    const offence = current?.offence ?? (await this.#offence(candidate.value, now)) + 1
    const expiresAt = Math.min(NEVER, candidate.expiry(offence, now))
    if (current !== undefined && !force) {
      if (current.origin === 'manual')
        return { action: 'unchanged', entry: current, reason: 'manual-entry-wins' }
      const length = current.expiresAt - current.createdAt
      if (expiresAt - current.expiresAt < RENEWAL_MIN_EXTENSION * length) {
        return { action: 'unchanged', entry: current, reason: 'already-blocked' }
      }
    }
    const entry: BlockEntry = {
      id: this.#nextId++,
      value: candidate.value,
      scope: candidate.scope,
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
    await this.#db.root.batch([
      { type: 'put', sublevel: this.#db.entries, key: entry.value, value: JSON.stringify(entry) },
      { type: 'put', sublevel: this.#db.meta, key: 'nextId', value: String(this.#nextId) },
      {
        type: 'put',
        sublevel: this.#db.offences,
        key: entry.value,
        value: JSON.stringify({ count: offence, at: now } satisfies OffenceRecord),
      },
    ])
    if (current !== undefined) {
      this.#unindex(current)
      this.#index(entry)
      this.#emit({ kind: 'removed', entry: current, reason: 'replaced' })
    } else {
      this.#index(entry)
    }
    this.#counts.added++
    this.#emit({ kind: 'added', entry })
    return current !== undefined ? { action: 'renewed', entry } : { action: 'added', entry }
  }

  async #remove(entry: BlockEntry, reason: 'expired' | 'manual' | 'allowlisted'): Promise<void> {
    await this.#db.entries.del(entry.value)
    if (this.#trie.get(entry.value) !== entry) return
    this.#unindex(entry)
    this.#counts.removed++
    this.#emit({ kind: 'removed', entry, reason })
  }

  #index(entry: BlockEntry): void {
    this.#trie.set(entry.value, entry)
    this.#byOrigin[entry.origin]++
  }

  #unindex(entry: BlockEntry): void {
    this.#trie.delete(entry.value)
    this.#byOrigin[entry.origin]--
  }

  async #purgeAllowed(range: Indicator): Promise<void> {
    await this.#enqueue(async () => {
      for (const entry of this.#trie.overlapping(range)) await this.#remove(entry, 'allowlisted')
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

/** js-libp2p style factory: every init field optional and defaulted here, once. */
export function blocklist(init: Partial<BlocklistInit> = {}): (components: BlocklistComponents) => Blocklist {
  const merged: BlocklistInit = { ...BLOCKLIST_DEFAULTS, ...stripUndefined(init) }
  return (components) => new Blocklist(merged, components)
}
