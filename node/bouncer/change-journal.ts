import { randomBytes } from 'node:crypto'
import type { BlockChange, BlocklistView } from '../blocklist/block-entry.ts'

export interface JournalRecord {
  /** 1, 2, 3... within this journal's epoch */
  seq: number
  /** ms since the epoch, when the change was seen */
  at: number
  change: BlockChange
}

export interface ChangeJournalInit {
  /** changes held for late readers; older ones are dropped and their readers must resync */
  capacity: number
  clock: () => number
}

export const DEFAULT_JOURNAL_CAPACITY = 100_000

/**
 * The recent blocklist changes, numbered, in a fixed-size ring. Readers (bouncer cursors, SSE clients) keep
 * the sequence number they have seen and ask for what came after it. It lives in memory only: sequence numbers
 * restart with the process, so each journal has a random `epoch` and a reader holding a number from another
 * epoch (or one that has fallen out of the ring) is told to resync from a snapshot instead.
 */
export class ChangeJournal {
  readonly epoch: string = randomBytes(6).toString('base64url')
  readonly #ring: (JournalRecord | undefined)[]
  readonly #capacity: number
  readonly #clock: () => number
  readonly #listeners = new Set<(record: JournalRecord) => void>()
  #head = 0
  #unsubscribe?: () => void

  constructor(init: Partial<ChangeJournalInit> = {}) {
    this.#capacity = init.capacity ?? DEFAULT_JOURNAL_CAPACITY
    if (!Number.isInteger(this.#capacity) || this.#capacity < 1) {
      throw new RangeError(`journal capacity must be a positive integer, got ${init.capacity}`)
    }
    this.#clock = init.clock ?? Date.now
    this.#ring = new Array(this.#capacity).fill(undefined)
  }

  /** Starts recording the view's changes. */
  follow(view: BlocklistView): void {
    this.#unsubscribe?.()
    this.#unsubscribe = view.onChange((change) => this.append(change))
  }

  stop(): void {
    this.#unsubscribe?.()
    this.#unsubscribe = undefined
    this.#listeners.clear()
  }

  /** The newest sequence number handed out; 0 before the first change. */
  get head(): number {
    return this.#head
  }

  /** The oldest sequence number still held (head + 1 when empty). */
  get oldest(): number {
    return Math.max(1, this.#head - this.#capacity + 1)
  }

  append(change: BlockChange): JournalRecord {
    const record: JournalRecord = { seq: ++this.#head, at: this.#clock(), change }
    this.#ring[record.seq % this.#capacity] = record
    for (const listener of this.#listeners) listener(record)
    return record
  }

  /**
   * Every record after `seq`, oldest first; undefined when the journal cannot answer (the records right after
   * `seq` were dropped, or `seq` is ahead of this journal: it came from an earlier process).
   */
  since(seq: number, limit = Number.POSITIVE_INFINITY): JournalRecord[] | undefined {
    if (!Number.isInteger(seq) || seq < 0 || seq > this.#head) return undefined
    if (seq + 1 < this.oldest) return undefined
    const out: JournalRecord[] = []
    for (let s = seq + 1; s <= this.#head && out.length < limit; s++) {
      out.push(this.#ring[s % this.#capacity] as JournalRecord)
    }
    return out
  }

  /** Every record still held, oldest first. */
  held(): JournalRecord[] {
    return this.since(this.oldest - 1) ?? []
  }

  /** How many onAppend listeners are attached (open SSE connections); for status and leak checks. */
  get listenerCount(): number {
    return this.#listeners.size
  }

  /** Called synchronously after each append; returns an unsubscribe function. */
  onAppend(listener: (record: JournalRecord) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }
}
