import { createHash } from 'node:crypto'
import type { Envelope } from '../../protocol/envelope/envelope.ts'
import type { AlertBody } from '../../protocol/messages/alert.ts'
import type { BatchOperation } from 'level'
import { sortableNumber, type Store } from '../store/open-store.ts'

type StoreOp = BatchOperation<Store, string, string>

export type AlertOrigin = 'local' | 'gossip' | 'sync'

/** An alert as this node keeps it: the original signed bytes plus the decoded fields it is queried by. */
export interface StoredAlert extends AlertBody {
  /** content address: the first 128 bits of SHA-256 over the envelope bytes, hex; the same on every node */
  id: string
  /** sender's Ed25519 public key, hex */
  sender: string
  seq: number
  createdAt: number
  expiresAt: number
  receivedAt: number
  origin: AlertOrigin
  /** the wire bytes, base64, so the alert can be re-verified and re-served to peers as it was signed */
  envelope: string
}

export interface AlertPage {
  items: StoredAlert[]
  /** pass back as `cursor` for the next (older) page; absent on the last page */
  nextCursor?: string
}

const SEP = '!'

/**
 * Every alert stored, all senders together, unless the config says otherwise (`alerts.maxStored`). Alerts are a
 * few hundred bytes to 16 KiB on disk; this keeps the worst case to a few GB and the usual one to about 100 MB.
 */
export const DEFAULT_MAX_STORED_ALERTS = 200_000
/** alerts any sender may keep whatever its trust, so an honest newcomer's history is kept too */
export const MIN_ALERTS_PER_SENDER = 100
/** the share of `maxStored` one sender of full trust may keep; a sender's allowance scales with its trust */
export const SENDER_SHARE = 0.1
/** index entries deleted per batch when pruning or migrating: bounded memory, other writes go between batches */
const BATCH = 1000
/** (sender, seq) of alerts refused for lack of room, remembered so a replay of one is not weighed again */
const MAX_REMEMBERED_DROPS = 50_000
/** bumped when the indexes change; an older store is indexed once at open */
const FORMAT = '2'

export interface AlertStoreInit {
  /** alerts kept at most; past it the lowest-trust sender's oldest alert goes first, local alerts never */
  maxStored: number
  /** alerts one sender keeps at least (`MIN_ALERTS_PER_SENDER`) */
  minPerSender: number
  /** share of `maxStored` one sender may keep, times its trust (`SENDER_SHARE`) */
  senderShare: number
}

export interface AlertStoreComponents {
  /** current trust in the sender (Ed25519 public key, hex), 0..1; without it every sender is a newcomer */
  trustOf?: (senderHex: string) => number
}

export interface AlertStoreStats {
  count: number
  /** alerts not kept: their sender had used its allowance on newer ones, or the store was full of better */
  dropped: number
  /** alerts removed to make room for a better one (overall cap) */
  evicted: number
  /** alerts removed for a newer one of the same sender (its allowance) */
  evictedOverAllowance: number
  pruned: number
}

/**
 * Trust bands for the eviction order: trust at arrival, in tenths. A sender whose trust moves later keeps the
 * band its older alerts arrived with; its new ones get the new band.
 */
function bandOf(trust: number): string {
  return String(Math.min(9, Math.max(0, Math.floor(trust * 10))))
}

/** what every index entry carries so an alert can be deleted from any of them without reading its record */
interface Ref {
  key: string
  timeKey: string
  id: string
  expiryKey: string
  /** empty for local alerts, which are never evicted */
  rankKey: string
}

function encodeRef(r: Ref): string {
  return [r.key, r.timeKey, r.id, r.expiryKey, r.rankKey].join(' ')
}

function decodeRef(text: string): Ref {
  const [key = '', timeKey = '', id = '', expiryKey = '', rankKey = ''] = text.split(' ')
  return { key, timeKey, id, expiryKey, rankKey }
}

function senderOfKey(key: string): string {
  return key.slice(0, key.indexOf(SEP))
}

export function alertId(envelopeBytes: Uint8Array): string {
  return createHash('sha256').update(envelopeBytes).digest('hex').slice(0, 32)
}

function primaryKey(senderHex: string, seq: number): string {
  return senderHex + SEP + sortableNumber(seq)
}

/**
 * Alerts by (sender, seq) — which is also the replay check — with four indexes: arrival time for newest-first
 * listing and catch-up, content id for lookups from the API, expiry for pruning, and rank (the sender's trust
 * band at arrival, then arrival time) for eviction. All of them, and the alert count, are written in one
 * atomic batch; writes run one after another.
 *
 * Storage is bounded by trust (issue 15, finding 6): at most `maxStored` alerts in all, and per sender at most
 * `max(minPerSender, maxStored × senderShare × trust)`. A sender past its allowance replaces its own oldest
 * alert; a full store makes room by evicting the lowest band's oldest alert, never one of a higher band than
 * the newcomer's and never a local one, and otherwise does not keep the newcomer. Identities are free, so
 * fresh keys can only push out each other.
 */
export class AlertStore {
  readonly #db: Store
  readonly #init: AlertStoreInit
  readonly #trustOf: (senderHex: string) => number
  readonly #alerts
  readonly #byTime
  readonly #byId
  readonly #byExpiry
  readonly #byRank
  readonly #meta
  #count = 0
  /** alerts held per sender, counted on first need (bounded by the sender's allowance) and kept up to date */
  readonly #perSender = new Map<string, number>()
  /**
   * The last key evicted, per sender and per rank band: the next search starts after it. LevelDB keeps deleted
   * keys as tombstones until compaction, and a search from the start of a range whose head keeps being deleted
   * steps over all of them: every eviction cost more than the one before. A key put below a cursor resets it.
   */
  readonly #senderCursor = new Map<string, string>()
  readonly #rankCursor: (string | undefined)[] = []
  readonly #dropped = new Set<string>()
  #chain: Promise<unknown> = Promise.resolve()
  readonly #stats = { dropped: 0, evicted: 0, evictedOverAllowance: 0, pruned: 0 }

  constructor(db: Store, init: Partial<AlertStoreInit> = {}, components: AlertStoreComponents = {}) {
    this.#db = db
    this.#init = {
      maxStored: init.maxStored ?? DEFAULT_MAX_STORED_ALERTS,
      minPerSender: init.minPerSender ?? MIN_ALERTS_PER_SENDER,
      senderShare: init.senderShare ?? SENDER_SHARE,
    }
    this.#trustOf = components.trustOf ?? (() => 0)
    this.#alerts = db.sublevel<string, string>('alerts', { valueEncoding: 'utf8' })
    this.#byTime = db.sublevel<string, string>('alerts-by-time', { valueEncoding: 'utf8' })
    this.#byId = db.sublevel<string, string>('alerts-by-id', { valueEncoding: 'utf8' })
    this.#byExpiry = db.sublevel<string, string>('alerts-by-expiry', { valueEncoding: 'utf8' })
    this.#byRank = db.sublevel<string, string>('alerts-by-rank', { valueEncoding: 'utf8' })
    this.#meta = db.sublevel<string, string>('alerts-meta', { valueEncoding: 'utf8' })
  }

  /**
   * Reads the persisted count: start-up costs the same with ten alerts or ten million. A store written before
   * the count and the expiry and rank indexes existed is indexed once, here.
   */
  async open(): Promise<void> {
    if ((await this.#meta.get('format')) === FORMAT) {
      this.#count = Number((await this.#meta.get('count')) ?? 0)
      return
    }
    await this.#migrate()
  }

  async #migrate(): Promise<void> {
    let n = 0
    let ops: StoreOp[] = []
    for await (const [key, raw] of this.#alerts.iterator()) {
      n++
      const a = JSON.parse(raw) as StoredAlert & { timeKey: string }
      const ref = this.#refOf(key, a.timeKey, a.id, a.expiresAt, a.origin, a.sender)
      ops.push(
        { type: 'put', sublevel: this.#alerts, key, value: JSON.stringify({ ...a, rankKey: ref.rankKey }) },
        { type: 'put', sublevel: this.#byExpiry, key: ref.expiryKey, value: encodeRef(ref) },
      )
      if (ref.rankKey !== '')
        ops.push({ type: 'put', sublevel: this.#byRank, key: ref.rankKey, value: encodeRef(ref) })
      if (ops.length >= BATCH) {
        await this.#db.batch(ops)
        ops = []
      }
    }
    ops.push(
      { type: 'put', sublevel: this.#meta, key: 'count', value: String(n) },
      { type: 'put', sublevel: this.#meta, key: 'format', value: FORMAT },
    )
    await this.#db.batch(ops)
    this.#count = n
  }

  #refOf(
    key: string,
    timeKey: string,
    id: string,
    expiresAt: number,
    origin: AlertOrigin,
    sender: string,
  ): Ref {
    const expiryKey = sortableNumber(Math.max(0, expiresAt)) + SEP + key
    const rankKey = origin === 'local' ? '' : bandOf(this.#trustOf(sender)) + SEP + timeKey
    return { key, timeKey, id, expiryKey, rankKey }
  }

  get count(): number {
    return this.#count
  }

  stats(): AlertStoreStats {
    return { count: this.#count, ...this.#stats }
  }

  /** how many alerts a sender of this trust may keep */
  allowance(trust: number): number {
    return Math.max(
      this.#init.minPerSender,
      Math.floor(this.#init.maxStored * this.#init.senderShare * trust),
    )
  }

  /** Whether the alert is held, or was seen and not kept for lack of room: either way a replay. */
  async has(senderHex: string, seq: number): Promise<boolean> {
    const key = primaryKey(senderHex, seq)
    return this.#dropped.has(key) || (await this.#alerts.get(key)) !== undefined
  }

  #serial<T>(f: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(f, f)
    this.#chain = run.catch(() => undefined)
    return run
  }

  /**
   * Stores an alert, making room within the bounds (see the class). Returns the alert whether or not it was
   * kept: it is valid either way, and a replay of one not kept is still recognised (`has`).
   */
  async put(
    envelope: Envelope<AlertBody>,
    bytes: Uint8Array,
    origin: AlertOrigin,
    receivedAt: number,
  ): Promise<StoredAlert> {
    return this.#serial(() => this.#put(envelope, bytes, origin, receivedAt))
  }

  async #put(
    envelope: Envelope<AlertBody>,
    bytes: Uint8Array,
    origin: AlertOrigin,
    receivedAt: number,
  ): Promise<StoredAlert> {
    const sender = Buffer.from(envelope.sender).toString('hex')
    const key = primaryKey(sender, envelope.seq)
    const alert: StoredAlert = {
      ...envelope.body,
      id: alertId(bytes),
      sender,
      seq: envelope.seq,
      createdAt: envelope.createdAt,
      expiresAt: envelope.expiresAt,
      receivedAt,
      origin,
      envelope: Buffer.from(bytes).toString('base64'),
    }
    if ((await this.#alerts.get(key)) !== undefined) return alert
    const timeKey = sortableNumber(receivedAt) + SEP + key
    const ref = this.#refOf(key, timeKey, alert.id, alert.expiresAt, origin, sender)
    const ops: StoreOp[] = []
    if (origin === 'local') {
      // ours are always kept: room is made, if need be, at the bottom of the eviction order
      if (this.#count >= this.#init.maxStored) await this.#evictLowest(undefined, ops)
    } else if (!(await this.#makeRoom(sender, ref, ops))) {
      this.#drop(key)
      return alert
    }
    const held = (await this.#held(sender)) + 1
    const count = this.#count + 1
    ops.push(
      {
        type: 'put',
        sublevel: this.#alerts,
        key,
        value: JSON.stringify({ ...alert, timeKey, rankKey: ref.rankKey }),
      },
      { type: 'put', sublevel: this.#byTime, key: timeKey, value: key },
      { type: 'put', sublevel: this.#byId, key: alert.id, value: key },
      { type: 'put', sublevel: this.#byExpiry, key: ref.expiryKey, value: encodeRef(ref) },
      { type: 'put', sublevel: this.#meta, key: 'count', value: String(count) },
    )
    if (ref.rankKey !== '')
      ops.push({ type: 'put', sublevel: this.#byRank, key: ref.rankKey, value: encodeRef(ref) })
    await this.#db.batch(ops)
    this.#count = count
    this.#perSender.set(sender, held)
    const senderCursor = this.#senderCursor.get(sender)
    if (senderCursor !== undefined && key <= senderCursor) this.#senderCursor.delete(sender)
    if (ref.rankKey !== '') {
      const band = Number(ref.rankKey[0])
      const rankCursor = this.#rankCursor[band]
      if (rankCursor !== undefined && ref.rankKey <= rankCursor) this.#rankCursor[band] = undefined
    }
    return alert
  }

  #drop(key: string): void {
    this.#stats.dropped++
    if (this.#dropped.size >= MAX_REMEMBERED_DROPS) this.#dropped.clear()
    this.#dropped.add(key)
  }

  /** Alerts the sender holds: counted once (up to what any allowance could be), then kept up to date. */
  async #held(sender: string): Promise<number> {
    const known = this.#perSender.get(sender)
    if (known !== undefined) return known
    let n = 0
    const limit = this.allowance(1) + 1
    for await (const _ of this.#alerts.keys({ gt: sender + SEP, lt: sender + '"', limit })) n++
    // a bounded cache: a flood of one-alert keys must not grow it without end; forgotten senders are recounted
    if (this.#perSender.size >= MAX_REMEMBERED_DROPS) {
      this.#perSender.clear()
      this.#senderCursor.clear()
    }
    this.#perSender.set(sender, n)
    return n
  }

  /**
   * Frees a place for a peer's alert, adding the deletes to `ops`: within the sender's allowance (its own
   * oldest goes), then within the overall cap (the lowest band's oldest, if its band is not above the
   * newcomer's). False when the alert is not to be kept.
   */
  async #makeRoom(sender: string, ref: Ref, ops: StoreOp[]): Promise<boolean> {
    const held = await this.#held(sender)
    if (held >= this.allowance(this.#trustOf(sender))) {
      const gt = this.#senderCursor.get(sender) ?? sender + SEP
      const [oldestKey] = await this.#alerts.keys({ gt, lt: sender + '"', limit: 1 }).all()
      if (oldestKey === undefined || oldestKey > ref.key) return false
      this.#senderCursor.set(sender, oldestKey)
      const raw = await this.#alerts.get(oldestKey)
      if (raw === undefined) return false
      const a = JSON.parse(raw) as StoredAlert & { timeKey: string; rankKey?: string }
      const victim = this.#refOf(oldestKey, a.timeKey, a.id, a.expiresAt, a.origin, a.sender)
      this.#delete({ ...victim, rankKey: a.rankKey ?? victim.rankKey }, ops)
      this.#stats.evictedOverAllowance++
      return true
    }
    if (this.#count < this.#init.maxStored) return true
    return this.#evictLowest(ref.rankKey, ops)
  }

  /** Evicts the first alert of the eviction order, if there is one not above `atMost`; false when none. */
  async #evictLowest(atMost: string | undefined, ops: StoreOp[]): Promise<boolean> {
    const top = atMost === undefined ? 9 : Number(atMost[0])
    for (let band = 0; band <= top; band++) {
      const gt = this.#rankCursor[band] ?? band + SEP
      const [first] = await this.#byRank.iterator({ gt, lt: band + '"', limit: 1 }).all()
      if (first === undefined) continue
      if (atMost !== undefined && first[0] > atMost) return false
      this.#rankCursor[band] = first[0]
      this.#delete(decodeRef(first[1]), ops)
      this.#stats.evicted++
      return true
    }
    return false
  }

  /**
   * Adds the deletes of one alert to `ops` and counts it gone (the caller writes `ops`, with the count, before
   * anything else runs).
   */
  #delete(ref: Ref, ops: StoreOp[]): void {
    ops.push(
      { type: 'del', sublevel: this.#alerts, key: ref.key },
      { type: 'del', sublevel: this.#byTime, key: ref.timeKey },
      { type: 'del', sublevel: this.#byId, key: ref.id },
      { type: 'del', sublevel: this.#byExpiry, key: ref.expiryKey },
    )
    if (ref.rankKey !== '') ops.push({ type: 'del', sublevel: this.#byRank, key: ref.rankKey })
    this.#count--
    const sender = senderOfKey(ref.key)
    const held = this.#perSender.get(sender)
    if (held !== undefined) this.#perSender.set(sender, Math.max(0, held - 1))
  }

  async get(id: string): Promise<StoredAlert | undefined> {
    const key = await this.#byId.get(id)
    if (key === undefined) return undefined
    const raw = await this.#alerts.get(key)
    return raw === undefined ? undefined : strip(JSON.parse(raw))
  }

  /** Newest first. The cursor is opaque to callers (base64url of the arrival-time key). */
  async list(opts: { limit: number; cursor?: string }): Promise<AlertPage> {
    const lt = opts.cursor !== undefined ? Buffer.from(opts.cursor, 'base64url').toString('utf8') : undefined
    const keys: string[] = []
    const timeKeys: string[] = []
    for await (const [timeKey, key] of this.#byTime.iterator({
      reverse: true,
      limit: opts.limit + 1,
      ...(lt ? { lt } : {}),
    })) {
      timeKeys.push(timeKey)
      keys.push(key)
    }
    const more = keys.length > opts.limit
    if (more) {
      keys.pop()
      timeKeys.pop()
    }
    const values = await this.#alerts.getMany(keys)
    const items = values.filter((v): v is string => v !== undefined).map((v) => strip(JSON.parse(v)))
    const last = timeKeys.at(-1)
    return more && last !== undefined
      ? { items, nextCursor: Buffer.from(last).toString('base64url') }
      : { items }
  }

  /**
   * Oldest arrival first from `since` (ms, inclusive), skipping alerts already expired at `now`: what the
   * catch-up protocol serves. At most `maxScan` index entries are read per call so a stretch of expired history
   * costs bounded work, and the envelopes returned total at most `maxBytes`; either way `nextCursor` says where
   * to go on. The cursor is opaque (base64url of the last arrival-time key covered).
   */
  async listSince(
    since: number,
    opts: { limit: number; now: number; cursor?: string; maxScan?: number; maxBytes?: number },
  ): Promise<AlertPage> {
    const sinceKey = sortableNumber(Math.max(0, Math.floor(since)))
    const after =
      opts.cursor !== undefined ? Buffer.from(opts.cursor, 'base64url').toString('utf8') : undefined
    const range = after !== undefined && after >= sinceKey ? { gt: after } : { gte: sinceKey }
    const maxScan = Math.max(opts.limit, opts.maxScan ?? opts.limit * 4)
    const maxBytes = opts.maxBytes ?? Number.POSITIVE_INFINITY
    const entries: Array<[string, string]> = []
    for await (const entry of this.#byTime.iterator({ ...range, limit: maxScan })) entries.push(entry)
    const values = await this.#alerts.getMany(entries.map(([, key]) => key))
    const items: StoredAlert[] = []
    let bytes = 0
    let last: string | undefined
    let stoppedEarly = false
    for (let i = 0; i < entries.length; i++) {
      const raw = values[i]
      if (raw !== undefined) {
        const record = JSON.parse(raw) as StoredAlert & { timeKey?: string }
        if (record.expiresAt > opts.now) {
          const size = Buffer.byteLength(record.envelope, 'base64')
          if (items.length >= opts.limit || (items.length > 0 && bytes + size > maxBytes)) {
            stoppedEarly = true
            break
          }
          bytes += size
          items.push(strip(record))
        }
      }
      last = entries[i][0]
    }
    const more = stoppedEarly || entries.length >= maxScan
    return more && last !== undefined
      ? { items, nextCursor: Buffer.from(last).toString('base64url') }
      : { items }
  }

  /**
   * Drops every alert that expired more than `retentionMs` ago; returns how many. Reads the expiry index only
   * (each entry names everything to delete), in batches of BATCH so other writes go between them.
   */
  async prune(now: number, retentionMs: number): Promise<number> {
    const lt = sortableNumber(Math.max(0, Math.floor(now - retentionMs) + 1))
    let total = 0
    // each batch starts after the last (see #senderCursor: the deleted head of the range is not stepped over)
    let after: string | undefined
    for (;;) {
      const n = await this.#serial(async () => {
        const range = after === undefined ? { lt } : { gt: after, lt }
        const entries = await this.#byExpiry.iterator({ ...range, limit: BATCH }).all()
        if (entries.length === 0) return 0
        after = entries[entries.length - 1][0]
        const ops: StoreOp[] = []
        for (const [, value] of entries) this.#delete(decodeRef(value), ops)
        ops.push({ type: 'put', sublevel: this.#meta, key: 'count', value: String(this.#count) })
        await this.#db.batch(ops)
        return entries.length
      })
      total += n
      if (n < BATCH) break
    }
    this.#stats.pruned += total
    return total
  }
}

function strip(record: StoredAlert & { timeKey?: string; rankKey?: string }): StoredAlert {
  const { timeKey: _, rankKey: __, ...alert } = record
  return alert
}
