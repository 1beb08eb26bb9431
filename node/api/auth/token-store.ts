import { createHash, randomBytes } from 'node:crypto'
import type { Store } from '../../store/open-store.ts'
import { TOKEN_SCOPES, type TokenScope } from './scopes.ts'

export interface TokenRecord {
  id: string
  name: string
  scope: TokenScope
  createdAt: number
  /** ms since the epoch, or absent for no expiry */
  expiresAt?: number
}

export class InvalidTokenRequestError extends Error {
  override name = 'InvalidTokenRequestError'
}
export class TokenNotFoundError extends Error {
  override name = 'TokenNotFoundError'
}

const NAME = /^[A-Za-z0-9._-]{1,64}$/

function hash(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

/**
 * Scoped API tokens beyond the admin token file. Only SHA-256 hashes are stored (a stolen store does not
 * yield tokens); the plain token is returned once, at creation. Lookups are in memory: the auth check sits
 * on every request's path.
 */
export class TokenStore {
  readonly #db
  readonly #byHash = new Map<string, TokenRecord>()
  readonly #clock: () => number

  constructor(store: Store, clock: () => number = Date.now) {
    this.#db = store.sublevel<string, string>('api-tokens', { valueEncoding: 'utf8' })
    this.#clock = clock
  }

  async open(): Promise<void> {
    for await (const [h, value] of this.#db.iterator()) this.#byHash.set(h, JSON.parse(value) as TokenRecord)
  }

  async create(input: {
    scope: TokenScope
    name?: string
    ttlSeconds?: number
  }): Promise<{ token: string; record: TokenRecord }> {
    if (!TOKEN_SCOPES.includes(input.scope))
      throw new InvalidTokenRequestError(`scope must be one of ${TOKEN_SCOPES.join(', ')}`)
    const name = input.name ?? `${input.scope}-${randomBytes(3).toString('hex')}`
    if (!NAME.test(name)) throw new InvalidTokenRequestError('name: letters, digits, . _ - (at most 64)')
    const now = this.#clock()
    const record: TokenRecord = {
      id: randomBytes(6).toString('hex'),
      name,
      scope: input.scope,
      createdAt: now,
      ...(input.ttlSeconds !== undefined ? { expiresAt: now + input.ttlSeconds * 1000 } : {}),
    }
    const token = `sw${input.scope[0]}_${randomBytes(32).toString('base64url')}`
    const h = hash(token)
    await this.#db.put(h, JSON.stringify(record))
    this.#byHash.set(h, record)
    return { token, record }
  }

  /** The record a presented token stands for, if any and unexpired. */
  verify(token: string): TokenRecord | undefined {
    // keyed by a hash of the token: the lookup never compares the secret itself, so timing tells nothing
    const record = this.#byHash.get(hash(token))
    if (record === undefined) return undefined
    if (record.expiresAt !== undefined && record.expiresAt <= this.#clock()) return undefined
    return record
  }

  list(): TokenRecord[] {
    return [...this.#byHash.values()].sort((a, b) => a.createdAt - b.createdAt)
  }

  async revoke(id: string): Promise<void> {
    for (const [h, record] of this.#byHash) {
      if (record.id !== id) continue
      await this.#db.del(h)
      this.#byHash.delete(h)
      return
    }
    throw new TokenNotFoundError(`no token with id ${id}`)
  }
}
