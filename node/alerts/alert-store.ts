import { createHash } from 'node:crypto'
import type { Envelope } from '../../protocol/envelope/envelope.ts'
import type { AlertBody } from '../../protocol/messages/alert.ts'
import { sortableNumber, type Store } from '../store/open-store.ts'

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

export function alertId(envelopeBytes: Uint8Array): string {
  return createHash('sha256').update(envelopeBytes).digest('hex').slice(0, 32)
}

function primaryKey(senderHex: string, seq: number): string {
  return senderHex + SEP + sortableNumber(seq)
}

/**
 * Alerts by (sender, seq) — which is also the replay check — with two indexes: arrival time for newest-first
 * listing, and content id for lookups from the API. All three are written in one atomic batch.
 */
export class AlertStore {
  readonly #db: Store
  readonly #alerts
  readonly #byTime
  readonly #byId
  #count = 0

  constructor(db: Store) {
    this.#db = db
    this.#alerts = db.sublevel<string, string>('alerts', { valueEncoding: 'utf8' })
    this.#byTime = db.sublevel<string, string>('alerts-by-time', { valueEncoding: 'utf8' })
    this.#byId = db.sublevel<string, string>('alerts-by-id', { valueEncoding: 'utf8' })
  }

  async open(): Promise<void> {
    let n = 0
    for await (const _ of this.#alerts.keys()) n++
    this.#count = n
  }

  get count(): number {
    return this.#count
  }

  async has(senderHex: string, seq: number): Promise<boolean> {
    return (await this.#alerts.get(primaryKey(senderHex, seq))) !== undefined
  }

  async put(
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
    const timeKey = sortableNumber(receivedAt) + SEP + key
    await this.#db.batch([
      { type: 'put', sublevel: this.#alerts, key, value: JSON.stringify({ ...alert, timeKey }) },
      { type: 'put', sublevel: this.#byTime, key: timeKey, value: key },
      { type: 'put', sublevel: this.#byId, key: alert.id, value: key },
    ])
    this.#count++
    return alert
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

  /** Drops alerts that expired more than `retentionMs` ago; returns how many. */
  async prune(now: number, retentionMs: number): Promise<number> {
    const ops = []
    for await (const [key, raw] of this.#alerts.iterator()) {
      const a = JSON.parse(raw) as StoredAlert & { timeKey: string }
      if (a.expiresAt + retentionMs > now) continue
      ops.push(
        { type: 'del' as const, sublevel: this.#alerts, key },
        { type: 'del' as const, sublevel: this.#byTime, key: a.timeKey },
        { type: 'del' as const, sublevel: this.#byId, key: a.id },
      )
      if (ops.length >= 3000) break
    }
    if (ops.length > 0) await this.#db.batch(ops)
    this.#count -= ops.length / 3
    return ops.length / 3
  }
}

function strip(record: StoredAlert & { timeKey?: string }): StoredAlert {
  const { timeKey: _, ...alert } = record
  return alert
}
