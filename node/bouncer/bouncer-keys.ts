import { hash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Store } from '../store/open-store.ts'

export class InvalidBouncerNameError extends Error {
  override name = 'InvalidBouncerNameError'
}
export class DuplicateBouncerError extends Error {
  override name = 'DuplicateBouncerError'
}
export class UnknownBouncerError extends Error {
  override name = 'UnknownBouncerError'
}

export const BOUNCER_NAME = /^[a-zA-Z0-9._-]{1,64}$/

/** What an admin sees of a bouncer; the key itself is shown once, by `add`, and never stored. */
export interface BouncerInfo {
  name: string
  /** ms since the epoch */
  createdAt: number
  /** last time it fetched decisions (ms since the epoch), if ever */
  lastPull?: number
}

interface StoredBouncer extends BouncerInfo {
  /** hex SHA-256 of the key */
  keyHash: string
}

/** How often a bouncer's lastPull is written to disk; it is exact in memory. Like LAPI's once a minute. */
export const LAST_PULL_PERSIST_MS = 60_000

function hashKey(key: string): string {
  return hash('sha256', key, 'hex')
}

/**
 * The bouncers allowed to read decisions through the CrowdSec-compatible API, each with its own random key
 * (256 bits, base64url, no padding: safe in a header and in YAML). Only the SHA-256 of a key is stored. All
 * records are held in memory too, keyed by hash, so authenticating a request never touches the disk.
 */
export class BouncerKeys {
  readonly #sub
  readonly #clock: () => number
  readonly #byName = new Map<string, StoredBouncer>()
  readonly #byHash = new Map<string, StoredBouncer>()
  readonly #persistedPull = new Map<string, number>()
  #onError: (err: Error) => void = () => {}

  constructor(store: Store, options: { clock?: () => number; onError?: (err: Error) => void } = {}) {
    this.#sub = store.sublevel<string, string>('bouncers', { valueEncoding: 'utf8' })
    this.#clock = options.clock ?? Date.now
    if (options.onError !== undefined) this.#onError = options.onError
  }

  async open(): Promise<void> {
    for await (const [name, raw] of this.#sub.iterator()) {
      const record = JSON.parse(raw) as StoredBouncer
      this.#byName.set(name, record)
      this.#byHash.set(record.keyHash, record)
      if (record.lastPull !== undefined) this.#persistedPull.set(name, record.lastPull)
    }
  }

  get count(): number {
    return this.#byName.size
  }

  /** Registers a bouncer and returns its key: the only time the key exists outside the bouncer's config. */
  async add(name: string): Promise<{ bouncer: BouncerInfo; key: string }> {
    if (typeof name !== 'string' || !BOUNCER_NAME.test(name)) {
      throw new InvalidBouncerNameError(
        `bouncer name ${JSON.stringify(name)}: use 1 to 64 letters, digits, ".", "_" or "-"`,
      )
    }
    if (this.#byName.has(name)) throw new DuplicateBouncerError(`a bouncer named "${name}" already exists`)
    const key = randomBytes(32).toString('base64url')
    const record: StoredBouncer = { name, createdAt: this.#clock(), keyHash: hashKey(key) }
    // Reserve the name before the write so two concurrent adds cannot both succeed.
    this.#byName.set(name, record)
    try {
      await this.#sub.put(name, JSON.stringify(record))
    } catch (err) {
      this.#byName.delete(name)
      throw err
    }
    this.#byHash.set(record.keyHash, record)
    return { bouncer: info(record), key }
  }

  list(): BouncerInfo[] {
    return [...this.#byName.values()].map(info).sort((a, b) => a.name.localeCompare(b.name))
  }

  get(name: string): BouncerInfo | undefined {
    const record = this.#byName.get(name)
    return record === undefined ? undefined : info(record)
  }

  async delete(name: string): Promise<void> {
    const record = this.#byName.get(name)
    if (record === undefined) throw new UnknownBouncerError(`no bouncer named "${name}"`)
    // Revoke in memory first: the key stops working even if the write is slow.
    this.#byName.delete(name)
    this.#byHash.delete(record.keyHash)
    this.#persistedPull.delete(name)
    await this.#sub.del(name)
  }

  /**
   * The bouncer holding this key, or undefined: one hash and one map lookup, no disk. The map is keyed by the
   * SHA-256 of the secret, so how long a lookup takes depends on a hash the caller cannot steer, never on how
   * much of a real key they guessed; the final comparison is constant-time as well.
   */
  authenticate(key: string | undefined): string | undefined {
    if (key === undefined || key.length === 0 || key.length > 512) return undefined
    const presented = hashKey(key)
    const record = this.#byHash.get(presented)
    if (record === undefined) return undefined
    return timingSafeEqual(Buffer.from(presented, 'latin1'), Buffer.from(record.keyHash, 'latin1'))
      ? record.name
      : undefined
  }

  /** Notes a pull; written to disk at most once a minute per bouncer (and on flush). */
  touch(name: string, now: number = this.#clock()): void {
    const record = this.#byName.get(name)
    if (record === undefined) return
    record.lastPull = now
    const persisted = this.#persistedPull.get(name) ?? 0
    if (now - persisted < LAST_PULL_PERSIST_MS) return
    this.#persistedPull.set(name, now)
    this.#sub.put(name, JSON.stringify(record)).catch((err: Error) => this.#onError(err))
  }

  /** Writes every lastPull not yet on disk (at shutdown). */
  async flush(): Promise<void> {
    const ops = []
    for (const record of this.#byName.values()) {
      if (record.lastPull !== undefined && record.lastPull !== this.#persistedPull.get(record.name)) {
        ops.push({ type: 'put' as const, key: record.name, value: JSON.stringify(record) })
        this.#persistedPull.set(record.name, record.lastPull)
      }
    }
    if (ops.length > 0) await this.#sub.batch(ops)
  }
}

function info(record: StoredBouncer): BouncerInfo {
  return {
    name: record.name,
    createdAt: record.createdAt,
    ...(record.lastPull !== undefined ? { lastPull: record.lastPull } : {}),
  }
}
