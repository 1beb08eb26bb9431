import { parseIndicator } from '../../protocol/indicator.ts'
import type { BlockChange, BlockEntry, BlocklistView, BlockOrigin } from '../blocklist/block-entry.ts'
import { CidrTrie } from '../blocklist/cidr-trie.ts'

export interface MemoryBlockInput {
  /** address or CIDR in any valid spelling; stored canonical */
  value: string
  scenario?: string
  origin?: BlockOrigin
  /** how long from now; ignored when `expiresAt` is given */
  durationMs?: number
  expiresAt?: number
  score?: number
  reasons?: string[]
  reporters?: string[]
}

const DEFAULT_DURATION_MS = 4 * 3600_000

/**
 * A BlocklistView held only in memory, with the mutations an admin or a simulation needs (block, unblock,
 * expire). No scoring and no persistence: it is the smallest real blocklist, for enforcer tests, the
 * simulator and benchmarks. Expired entries are invisible at once and are removed (with a change event) by
 * `expire()`.
 */
export class MemoryBlocklist implements BlocklistView {
  readonly #entries = new CidrTrie<BlockEntry>()
  readonly #listeners = new Set<(change: BlockChange) => void>()
  readonly #offences = new Map<string, number>()
  readonly #clock: () => number
  #nextId = 1

  constructor(options: { clock?: () => number } = {}) {
    this.#clock = options.clock ?? Date.now
  }

  get size(): number {
    return this.#entries.size
  }

  get(value: string): BlockEntry | undefined {
    let entry: BlockEntry | undefined
    try {
      entry = this.#entries.get(value)
    } catch {
      return undefined
    }
    return entry !== undefined && entry.expiresAt > this.#clock() ? entry : undefined
  }

  lookup(ip: string): BlockEntry[] {
    const found = this.#entries.covering(ip)
    if (found.length === 0) return found
    const now = this.#clock()
    return found.every((e) => e.expiresAt > now) ? found : found.filter((e) => e.expiresAt > now)
  }

  *entries(): IterableIterator<BlockEntry> {
    const now = this.#clock()
    for (const entry of this.#entries.values()) if (entry.expiresAt > now) yield entry
  }

  onChange(listener: (change: BlockChange) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** Blocks a value; an existing entry for it is replaced (removed, then added with a new id). */
  block(input: MemoryBlockInput): BlockEntry {
    const indicator = parseIndicator(input.value)
    const now = this.#clock()
    const previous = this.#entries.get(indicator.canonical)
    const offence = (this.#offences.get(indicator.canonical) ?? 0) + 1
    const entry: BlockEntry = {
      id: this.#nextId++,
      value: indicator.canonical,
      scope: indicator.isRange ? 'range' : 'ip',
      type: 'ban',
      origin: input.origin ?? 'manual',
      scenario: input.scenario ?? 'manual',
      score: input.score ?? 1,
      reasons: input.reasons ?? [],
      reporters: input.reporters ?? [],
      createdAt: now,
      expiresAt: input.expiresAt ?? now + (input.durationMs ?? DEFAULT_DURATION_MS),
      offence,
    }
    this.#offences.set(indicator.canonical, offence)
    this.#entries.set(indicator.canonical, entry)
    if (previous !== undefined) this.#emit({ kind: 'removed', entry: previous, reason: 'replaced' })
    this.#emit({ kind: 'added', entry })
    return entry
  }

  /** Removes the entry for exactly this value; false when there is none. */
  unblock(value: string, reason: 'manual' | 'allowlisted' = 'manual'): boolean {
    const canonical = parseIndicator(value).canonical
    const entry = this.#entries.get(canonical)
    if (entry === undefined) return false
    this.#entries.delete(canonical)
    this.#emit({ kind: 'removed', entry, reason })
    return true
  }

  /** Removes every entry whose time is up; returns how many. */
  expire(now: number = this.#clock()): number {
    const due: BlockEntry[] = []
    for (const entry of this.#entries.values()) if (entry.expiresAt <= now) due.push(entry)
    for (const entry of due) {
      this.#entries.delete(entry.value)
      this.#emit({ kind: 'removed', entry, reason: 'expired' })
    }
    return due.length
  }

  #emit(change: BlockChange): void {
    for (const listener of this.#listeners) listener(change)
  }
}
