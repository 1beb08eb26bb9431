import { randomInt, type Prng } from './random.ts'

/**
 * Simulated clients come from the documentation ranges only (RFC 5737 TEST-NET-1/2/3, RFC 3849 2001:db8::/32):
 * they look public to every detector (private ranges are allowlisted) and can never be a real host. Attackers
 * and benign users never share a range, so a block is a false block by its address alone.
 */
export const BENIGN_V4_PREFIX = '192.0.2.'
export const ATTACKER_V4_PREFIXES = ['198.51.100.', '203.0.113.'] as const
export const BENIGN_V6_PREFIX = '2001:db8:b::'
export const ATTACKER_V6_PREFIX = '2001:db8:a::'

export class AddressPoolExhaustedError extends Error {
  override name = 'AddressPoolExhaustedError'
}

/** Hands out distinct addresses of one kind: IPv4 first (friendlier in reports), then IPv6 in the same role. */
export class AddressPool {
  readonly #v4: string[]
  readonly #v6Prefix: string
  readonly #used = new Set<string>()
  #usedV4 = 0
  readonly #rand: Prng

  constructor(kind: 'benign' | 'attacker', rand: Prng) {
    this.#rand = rand
    const prefixes = kind === 'benign' ? [BENIGN_V4_PREFIX] : [...ATTACKER_V4_PREFIXES]
    this.#v4 = prefixes.flatMap((p) => Array.from({ length: 254 }, (_, i) => p + (i + 1)))
    this.#v6Prefix = kind === 'benign' ? BENIGN_V6_PREFIX : ATTACKER_V6_PREFIX
  }

  next(): string {
    for (let tries = 0; tries < 10_000; tries++) {
      const free = this.#v4.length - this.#usedV4
      const ip =
        free > 0
          ? (this.#v4[randomInt(this.#rand, this.#v4.length)] as string)
          : this.#v6Prefix + (1 + randomInt(this.#rand, 0xfffe)).toString(16)
      if (!this.#used.has(ip)) {
        this.#used.add(ip)
        if (!ip.includes(':')) this.#usedV4++
        return ip
      }
    }
    throw new AddressPoolExhaustedError('no free simulated address left')
  }
}
