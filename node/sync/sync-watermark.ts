import type { Store } from '../store/open-store.ts'

/**
 * The time up to which this node knows it has every alert its peers had: raised after a successful catch-up
 * and, while the node is connected and caught up, by a heartbeat. Kept in the `sync` sublevel so a restart
 * asks peers only for what it missed.
 */
export class SyncWatermark {
  readonly #db
  #value: number | undefined

  constructor(db: Store) {
    this.#db = db.sublevel<string, string>('sync', { valueEncoding: 'utf8' })
  }

  async open(): Promise<void> {
    const raw = await this.#db.get('lastSeenAt')
    const n = raw === undefined ? NaN : Number(raw)
    this.#value = Number.isSafeInteger(n) && n >= 0 ? n : undefined
  }

  /** ms since the epoch; undefined when this node has never caught up */
  get value(): number | undefined {
    return this.#value
  }

  /** Only moves forward: a slow catch-up finishing late must not undo a newer heartbeat. */
  async raise(to: number): Promise<void> {
    if (this.#value !== undefined && to <= this.#value) return
    this.#value = to
    await this.#db.put('lastSeenAt', String(to))
  }
}

/** Where a catch-up starts: a margin before the watermark (clock skew, gossip in flight), never before the lookback. */
export function catchUpSince(
  watermark: number | undefined,
  now: number,
  opts: { marginMs: number; lookbackMs: number },
): number {
  const floor = Math.max(0, now - opts.lookbackMs)
  return watermark === undefined ? floor : Math.max(floor, watermark - opts.marginMs)
}
