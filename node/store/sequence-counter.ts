import type { Store } from './open-store.ts'

/**
 * Sequence numbers for everything this node signs. Peers treat a repeated (sender, seq) as a replay, so a
 * number must never be reused: each one is persisted before it is handed out, and it never falls below the
 * clock in microseconds, so even a data dir restored from an old backup keeps moving forward.
 */
export class SequenceCounter {
  readonly #meta
  #last = 0
  #chain: Promise<unknown> = Promise.resolve()

  constructor(db: Store) {
    this.#meta = db.sublevel<string, string>('meta', { valueEncoding: 'utf8' })
  }

  async open(): Promise<void> {
    const stored = await this.#meta.get('seq')
    this.#last = stored === undefined ? 0 : Number(stored)
  }

  next(now: number = Date.now()): Promise<number> {
    const result = this.#chain.then(async () => {
      const seq = Math.max(this.#last + 1, now * 1000)
      await this.#meta.put('seq', String(seq))
      this.#last = seq
      return seq
    })
    this.#chain = result.catch(() => undefined)
    return result
  }
}
