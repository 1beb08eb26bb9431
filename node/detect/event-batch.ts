import { EVENT_KINDS, type EventKind, type SecurityEvent, type ServiceKind } from '../ingest/event.ts'
import { formatIpv4, ipv4KeyOf, primeIpv4KeyOf } from '../ingest/parsers/ip.ts'
import type { ReplaySink } from './replay-scan.ts'

/**
 * Parsed events (and the ticks between them) packed for other threads: a replay parses each line once, on one
 * thread, and its detector threads read the events from these batches. Structured cloning of a million event
 * objects would cost more than parsing them again; here an event is 10 int32 and 4 float64 in a shared buffer
 * that every reader reads in place, and each distinct string (user, path, user agent, ...) crosses once, as an
 * index into a table both sides keep (an IPv4 address crosses as its 32-bit value). The table is cleared
 * whenever it passes `maxStrings`, so memory stays bounded however many distinct strings a log holds (random
 * query strings simply cross again).
 */
export interface EventBatch {
  /** which of the writer's buffers: the owner hands it back (`release`) once every reader is done with it */
  slot: number
  buffer: SharedArrayBuffer
  records: number
  /** the reader clears its string table before taking `strings` */
  reset: boolean
  /** strings new to the table, in index order */
  strings: string[]
}

const SERVICES: readonly ServiceKind[] = ['ssh', 'http', 'other']
const SERVICE_INDEX = new Map(SERVICES.map((s, i) => [s, i]))
const KIND_INDEX = new Map<EventKind, number>(EVENT_KINDS.map((k, i) => [k, i]))

// int32 fields of a record
const TYPE = 0 // TICK, or (service << 8 | kind) for an event
const SEQ = 1
const IP = 2
const IP_KEY = 3
const USER = 4
const METHOD = 5
const PATH = 6
const USER_AGENT = 7
const REFERER = 8
const SOURCE = 9
const INTS = 10
// float64 fields of a record (NaN: absent); numbers from JSON logs need not be int32
const TIME = 0
const BYTES = 1
const STATUS = 2
const COUNT = 3
const NUMS = 4

const TICK = -1
/** an absent string or number */
const NONE = -1
/** the address is the IPv4 address of the record's key */
const FROM_KEY = -2

export const DEFAULT_BATCH_RECORDS = 4096
const IP_CACHE_BITS = 16
export const DEFAULT_MAX_STRINGS = 1 << 16

export class EventBatchCodecError extends Error {
  override name = 'EventBatchCodecError'
}

/**
 * Which strings the reader's table already holds, direct-mapped on a fingerprint of a few characters (as
 * `TextInterner` does): a Map lookup hashes the whole string each time, which for a log line's six strings cost
 * more than parsing the line. A string that lost its cell to another is simply sent again under a new index.
 */
class StringIds {
  readonly #held: (string | undefined)[]
  readonly #ids: Int32Array
  readonly #mask: number

  constructor(bits: number) {
    this.#held = new Array<string | undefined>(1 << bits).fill(undefined)
    this.#ids = new Int32Array(1 << bits)
    this.#mask = (1 << bits) - 1
  }

  /** the index of `s` in the reader's table, or -1 when it is not there (`cell` is where it goes) */
  find(s: string, cell: number): number {
    return this.#held[cell] === s ? this.#ids[cell] : NONE
  }

  remember(s: string, cell: number, id: number): void {
    this.#held[cell] = s
    this.#ids[cell] = id
  }

  /**
   * The length, the last 4 characters (user names and counters differ at the end) and 3 spread over the rest.
   */
  cellOf(s: string): number {
    const n = s.length
    let h = Math.imul(n, 0x9e3779b1)
    for (let i = n > 4 ? n - 4 : 0; i < n; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193)
    if (n > 4) {
      h = Math.imul(h ^ s.charCodeAt(n >> 1), 0x85ebca6b)
      h = Math.imul(h ^ s.charCodeAt(n >> 2), 0xc2b2ae35)
      h = Math.imul(h ^ s.charCodeAt(n >> 3), 0x27d4eb2f)
    }
    return (h ^ (h >>> 15)) & this.#mask
  }

  clear(): void {
    this.#held.fill(undefined)
  }
}

/** Packs a scan's events and ticks (it is a `ReplaySink`) into batches of `records`, handed to `emit`. */
export class EventBatchWriter implements ReplaySink {
  readonly #emit: (batch: EventBatch) => void
  readonly #capacity: number
  readonly #maxStrings: number
  readonly #slots: SharedArrayBuffer[] = []
  readonly #free: number[] = []
  #slot = 0
  readonly #ids = new StringIds(16)
  #strings: string[] = []
  /** strings in the reader's table */
  #tableSize = 0
  #kind: EventKind | undefined
  #service: ServiceKind | undefined
  #type = 0
  /** per string field (by its int slot), the last string written and its index */
  readonly #last = new Array<string | undefined>(INTS).fill(undefined)
  readonly #lastId = new Int32Array(INTS)
  #reset = false
  #ints!: Int32Array
  #nums!: Float64Array
  #records = 0

  constructor(emit: (batch: EventBatch) => void, options: { records?: number; maxStrings?: number } = {}) {
    this.#emit = emit
    this.#capacity = options.records ?? DEFAULT_BATCH_RECORDS
    this.#maxStrings = options.maxStrings ?? DEFAULT_MAX_STRINGS
    this.#take()
  }

  /** buffers made so far: the batches in flight at the busiest moment, plus one */
  get slots(): number {
    return this.#slots.length
  }

  /** Hands back a buffer that every reader of its batch is done with, for a later batch. */
  release(slot: number): void {
    this.#free.push(slot)
  }

  #take(): void {
    let slot = this.#free.pop()
    if (slot === undefined) {
      slot = this.#slots.length
      this.#slots.push(new SharedArrayBuffer(this.#capacity * (NUMS * 8 + INTS * 4)))
    }
    const buffer = this.#slots[slot]
    this.#slot = slot
    this.#nums = new Float64Array(buffer, 0, this.#capacity * NUMS)
    this.#ints = new Int32Array(buffer, this.#capacity * NUMS * 8, this.#capacity * INTS)
  }

  event(e: SecurityEvent, seq: number): void {
    // a run of events of one kind is the rule; the lookup is for when it changes
    if (e.kind !== this.#kind || e.service !== this.#service) {
      const service = SERVICE_INDEX.get(e.service)
      const kind = KIND_INDEX.get(e.kind)
      if (service === undefined || kind === undefined)
        throw new EventBatchCodecError(`event of unknown service ${e.service} or kind ${e.kind}`)
      this.#kind = e.kind
      this.#service = e.service
      this.#type = (service << 8) | kind
    }
    const i = this.#records * INTS
    const ints = this.#ints
    ints[i + TYPE] = this.#type
    ints[i + SEQ] = seq
    // an IPv4 address crosses as its key alone: the reader writes it out again (once per address it keeps)
    const key = ipv4KeyOf(e.ip)
    ints[i + IP] = key === 0 ? this.#id(e.ip, IP) : FROM_KEY
    ints[i + IP_KEY] = key
    ints[i + USER] = this.#id(e.user, USER)
    ints[i + METHOD] = this.#id(e.method, METHOD)
    ints[i + PATH] = this.#id(e.path, PATH)
    ints[i + USER_AGENT] = this.#id(e.userAgent, USER_AGENT)
    ints[i + REFERER] = this.#id(e.referer, REFERER)
    ints[i + SOURCE] = this.#id(e.source, SOURCE)
    const j = this.#records * NUMS
    const nums = this.#nums
    nums[j + TIME] = e.time
    nums[j + BYTES] = e.bytes ?? NaN
    nums[j + STATUS] = e.status ?? NaN
    nums[j + COUNT] = e.count ?? NaN
    if (++this.#records === this.#capacity) this.flush()
  }

  tick(now: number, seq: number): void {
    const i = this.#records * INTS
    this.#ints[i + TYPE] = TICK
    this.#ints[i + SEQ] = seq
    this.#nums[this.#records * NUMS + TIME] = now
    if (++this.#records === this.#capacity) this.flush()
  }

  /** Emits what is packed so far (nothing when empty). */
  flush(): void {
    if (this.#records === 0) return
    const n = this.#records
    this.#emit({
      slot: this.#slot,
      buffer: this.#slots[this.#slot],
      records: n,
      reset: this.#reset,
      strings: this.#strings,
    })
    this.#take()
    this.#records = 0
    this.#strings = []
    this.#reset = false
    // only between batches, so a reader never meets an index from before its table was cleared
    if (this.#tableSize >= this.#maxStrings) {
      this.#ids.clear()
      this.#last.fill(undefined)
      this.#tableSize = 0
      this.#reset = true
    }
  }

  /** the table index of field `field`'s string `s` */
  #id(s: string | undefined, field: number): number {
    if (s === undefined) return NONE
    // most fields repeat from one line to the next (one source, one method, one referer): usually the very
    // same string object, which is compared by pointer
    if (s === this.#last[field]) return this.#lastId[field]
    const id = this.#idIn(s, this.#ids.cellOf(s))
    // the original, not a copy, so the next line's interned string matches by pointer; one string a field
    // pins at most one chunk of log text
    this.#last[field] = s
    this.#lastId[field] = id
    return id
  }

  #idIn(s: string, cell: number): number {
    let id = this.#ids.find(s, cell)
    if (id === NONE) {
      id = this.#tableSize++
      // A field may be a slice of the line, which keeps its whole chunk of log text alive while held here;
      // concatenation then slicing makes a copy that does not.
      const copy = (' ' + s).slice(1)
      this.#ids.remember(copy, cell, id)
      this.#strings.push(copy)
    }
    return id
  }
}

/** Unpacks batches, in the order they were written, into the calls the writer was given. */
export class EventBatchReader {
  #table: string[] = []
  // IPv4 addresses written out lately, direct-mapped by key: a returning address is the same string object,
  // which detectors hash once and compare by pointer
  readonly #ipKeys = new Int32Array(1 << IP_CACHE_BITS)
  readonly #ipTexts = new Array<string>(1 << IP_CACHE_BITS).fill('')

  #ipv4(key: number): string {
    const cell = Math.imul(key, 0x9e3779b1) >>> (32 - IP_CACHE_BITS)
    // key 0 is never an address here (0.0.0.0 crosses as text), so the zero-filled cells start empty
    if (this.#ipKeys[cell] === key) return this.#ipTexts[cell]
    const text = formatIpv4(key)
    this.#ipKeys[cell] = key
    this.#ipTexts[cell] = text
    return text
  }

  read(batch: EventBatch, sink: ReplaySink): void {
    if (batch.reset) this.#table = []
    const table = this.#table
    for (const s of batch.strings) table.push(s)
    const capacity = batch.buffer.byteLength / (NUMS * 8 + INTS * 4)
    if (!Number.isInteger(capacity) || batch.records > capacity)
      throw new EventBatchCodecError(`batch of ${batch.records} records does not fit its buffer`)
    const nums = new Float64Array(batch.buffer, 0, batch.records * NUMS)
    const ints = new Int32Array(batch.buffer, capacity * NUMS * 8, batch.records * INTS)
    // an index from the writer is always in the table; one past its end means a lost batch or a bug
    const last = table.length - 1
    for (let r = 0; r < batch.records; r++) {
      const i = r * INTS
      const j = r * NUMS
      const type = ints[i + TYPE]
      if (type === TICK) {
        sink.tick(nums[j + TIME], ints[i + SEQ])
        continue
      }
      const ipId = ints[i + IP]
      const user = ints[i + USER]
      const method = ints[i + METHOD]
      const path = ints[i + PATH]
      const status = nums[j + STATUS]
      const bytes = nums[j + BYTES]
      const userAgent = ints[i + USER_AGENT]
      const referer = ints[i + REFERER]
      const source = ints[i + SOURCE]
      const count = nums[j + COUNT]
      if (
        ipId > last ||
        user > last ||
        method > last ||
        path > last ||
        userAgent > last ||
        referer > last ||
        source > last
      )
        throw new EventBatchCodecError(`record ${r} names a string that is not in the table`)
      const ip = ipId === FROM_KEY ? this.#ipv4(ints[i + IP_KEY]) : table[ipId]
      // one literal in `newEvent`'s field order: the same hidden class as a parser's events, in one allocation
      const e: SecurityEvent = {
        time: nums[j + TIME],
        ip,
        service: SERVICES[type >> 8],
        kind: EVENT_KINDS[type & 0xff],
        user: user === NONE ? undefined : table[user],
        method: method === NONE ? undefined : table[method],
        path: path === NONE ? undefined : table[path],
        status: status === status ? status : undefined,
        bytes: bytes === bytes ? bytes : undefined,
        userAgent: userAgent === NONE ? undefined : table[userAgent],
        referer: referer === NONE ? undefined : table[referer],
        source: source === NONE ? undefined : table[source],
        count: count === count ? count : undefined,
      }
      // the detectors ask for this address's key; the parser already worked it out
      primeIpv4KeyOf(ip, ints[i + IP_KEY])
      sink.event(e, ints[i + SEQ])
    }
  }
}
