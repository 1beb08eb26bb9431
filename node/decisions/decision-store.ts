import { randomBytes } from 'node:crypto'
import type { Decision } from '../detect/ensemble.ts'
import { sortableNumber, type Store, type StoreBatchOp } from '../store/open-store.ts'

/** A local decision as kept on disk and shown to admins. */
export interface StoredDecision extends Decision {
  id: string
  /** where the decision came from: this node's detectors or an admin */
  origin: 'local' | 'manual'
  /** id of the signed alert that told the network, when one was published */
  alertId?: string
}

export interface DecisionPage {
  items: StoredDecision[]
  nextCursor?: string
}

const SEP = '!'

export interface PutOptions {
  /**
   * Marks each decision "announcement pending" in the same batch: after a crash every stored decision either
   * was announced in full (alert stored and linked, listeners such as the local block done) or is still marked,
   * and start-up finishes what is marked.
   */
  pending?: boolean
  /** other writes that must land with the decisions or not at all (the follower's offset for these lines) */
  also?: StoreBatchOp[]
}

function keyOf(d: Pick<StoredDecision, 'decidedAt' | 'id'>): string {
  return sortableNumber(d.decidedAt) + SEP + d.id
}

/**
 * This node's own decisions (ban this address, for this long, because), newest first, plus per-address offence
 * counts so repeat offenders keep getting longer bans across restarts, plus the decisions whose announcement
 * (alert, local block) is not finished yet (sublevel `decisions-pending`). Decisions written together are one
 * batch.
 */
export class DecisionStore {
  readonly #db: Store
  readonly #byTime
  readonly #byIp
  readonly #pending
  #count = 0

  constructor(db: Store) {
    this.#db = db
    this.#byTime = db.sublevel<string, string>('decisions', { valueEncoding: 'utf8' })
    this.#byIp = db.sublevel<string, string>('decisions-by-ip', { valueEncoding: 'utf8' })
    this.#pending = db.sublevel<string, string>('decisions-pending', { valueEncoding: 'utf8' })
  }

  async open(): Promise<void> {
    let n = 0
    for await (const _ of this.#byTime.keys()) n++
    this.#count = n
  }

  get count(): number {
    return this.#count
  }

  async put(decision: Decision, origin: StoredDecision['origin'], alertId?: string): Promise<StoredDecision> {
    const id = randomBytes(8).toString('hex')
    const stored: StoredDecision = { ...decision, id, origin, ...(alertId !== undefined ? { alertId } : {}) }
    await this.#db.batch(this.#ops(stored, false))
    this.#count++
    return stored
  }

  /** Several decisions, their pending marks and the caller's own writes in one atomic batch. */
  async putAll(
    decisions: readonly Decision[],
    origin: StoredDecision['origin'],
    opts: PutOptions = {},
  ): Promise<StoredDecision[]> {
    const stored = decisions.map((d): StoredDecision => ({
      ...d,
      id: randomBytes(8).toString('hex'),
      origin,
    }))
    const ops = stored.flatMap((d) => this.#ops(d, opts.pending === true))
    await this.#db.batch(opts.also === undefined ? ops : [...ops, ...opts.also])
    this.#count += stored.length
    return stored
  }

  #ops(stored: StoredDecision, pending: boolean): StoreBatchOp[] {
    const key = keyOf(stored)
    const ops: StoreBatchOp[] = [
      { type: 'put', sublevel: this.#byTime, key, value: JSON.stringify(stored) },
      {
        type: 'put',
        sublevel: this.#byIp,
        key: stored.ip,
        value: JSON.stringify({ key, offences: stored.offence }),
      },
    ]
    if (pending) ops.push({ type: 'put', sublevel: this.#pending, key, value: stored.ip })
    return ops
  }

  /**
   * Ends announcements, in one batch: `linked` get the id of the alert published for them (set on the objects;
   * the alert is signed after the decision exists), `settled` are no longer pending (announced in full, or
   * given up on).
   */
  async finish(linked: readonly StoredDecision[], settled: readonly StoredDecision[]): Promise<void> {
    const ops: StoreBatchOp[] = linked.map((d) => ({
      type: 'put',
      sublevel: this.#byTime,
      key: keyOf(d),
      value: JSON.stringify(d),
    }))
    for (const d of settled) ops.push({ type: 'del', sublevel: this.#pending, key: keyOf(d) })
    if (ops.length > 0) await this.#db.batch(ops)
  }

  /** Decisions marked "announcement pending", oldest first. */
  async *pending(): AsyncGenerator<StoredDecision> {
    for await (const key of this.#pending.keys()) {
      const raw = await this.#byTime.get(key)
      if (raw === undefined) {
        // its record is gone (it cannot be without its mark, but a mark alone must not stick forever)
        await this.#pending.del(key)
        continue
      }
      yield JSON.parse(raw) as StoredDecision
    }
  }

  async latestFor(ip: string): Promise<(StoredDecision & { offences: number }) | undefined> {
    const raw = await this.#byIp.get(ip)
    if (raw === undefined) return undefined
    const { key, offences } = JSON.parse(raw) as { key: string; offences: number }
    const d = await this.#byTime.get(key)
    return d === undefined ? undefined : { ...(JSON.parse(d) as StoredDecision), offences }
  }

  /** Offence counts of addresses decided on since `since` (ms), for seeding the ensemble after a restart. */
  async *recentOffences(since: number): AsyncGenerator<{ ip: string; offences: number }> {
    for await (const [ip, raw] of this.#byIp.iterator()) {
      const { key, offences } = JSON.parse(raw) as { key: string; offences: number }
      if (Number(key.slice(0, 16)) >= since) yield { ip, offences }
    }
  }

  async list(opts: { limit: number; cursor?: string; activeAt?: number }): Promise<DecisionPage> {
    const lt = opts.cursor !== undefined ? Buffer.from(opts.cursor, 'base64url').toString('utf8') : undefined
    const items: StoredDecision[] = []
    let lastKey: string | undefined
    let more = false
    for await (const [key, raw] of this.#byTime.iterator({
      reverse: true,
      ...(lt !== undefined ? { lt } : {}),
    })) {
      const d = JSON.parse(raw) as StoredDecision
      if (opts.activeAt !== undefined && d.expiresAt <= opts.activeAt) continue
      if (items.length === opts.limit) {
        more = true
        break
      }
      items.push(d)
      lastKey = key
    }
    return more && lastKey !== undefined
      ? { items, nextCursor: Buffer.from(lastKey).toString('base64url') }
      : { items }
  }
}
