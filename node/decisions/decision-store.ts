import { randomBytes } from 'node:crypto'
import type { Decision } from '../detect/ensemble.ts'
import { sortableNumber, type Store } from '../store/open-store.ts'

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

/**
 * This node's own decisions (ban this address, for this long, because), newest first, plus per-address offence
 * counts so repeat offenders keep getting longer bans across restarts. One batch per decision.
 */
export class DecisionStore {
  readonly #db: Store
  readonly #byTime
  readonly #byIp
  #count = 0

  constructor(db: Store) {
    this.#db = db
    this.#byTime = db.sublevel<string, string>('decisions', { valueEncoding: 'utf8' })
    this.#byIp = db.sublevel<string, string>('decisions-by-ip', { valueEncoding: 'utf8' })
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
    const key = sortableNumber(decision.decidedAt) + SEP + id
    await this.#db.batch([
      { type: 'put', sublevel: this.#byTime, key, value: JSON.stringify(stored) },
      {
        type: 'put',
        sublevel: this.#byIp,
        key: decision.ip,
        value: JSON.stringify({ key, offences: decision.offence }),
      },
    ])
    this.#count++
    return stored
  }

  /** Links a decision to the alert published for it (the alert is signed after the decision exists). */
  async attachAlert(decision: StoredDecision, alertId: string): Promise<void> {
    const key = sortableNumber(decision.decidedAt) + SEP + decision.id
    await this.#byTime.put(key, JSON.stringify({ ...decision, alertId }))
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
