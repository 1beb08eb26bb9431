import { parseIndicator, type Indicator } from '../../protocol/indicator.ts'
import { CidrTrie } from './cidr-trie.ts'
import { stripUndefined } from '../service-init.ts'

/** Why a range is on the allowlist; shown to admins when a block is refused. */
export type AllowSource = 'loopback' | 'private' | 'self' | 'config' | 'special'

export interface AllowEntry {
  cidr: string
  source: AllowSource
  /** e.g. `RFC 1918`, `this node's address` */
  note: string
}

/** Never blocked: blocking these cuts the node off from itself. */
export const LOOPBACK_RANGES: readonly (readonly [string, string])[] = [
  ['127.0.0.0/8', 'IPv4 loopback'],
  ['::1/128', 'IPv6 loopback'],
]

/**
 * Not blocked unless configured off: a peer's alert about a private address says something about the peer's
 * own network, and blocking it here would cut off this node's LAN, VPN or cloud metadata service.
 */
export const PRIVATE_RANGES: readonly (readonly [string, string])[] = [
  ['10.0.0.0/8', 'RFC 1918 private'],
  ['172.16.0.0/12', 'RFC 1918 private'],
  ['192.168.0.0/16', 'RFC 1918 private'],
  ['100.64.0.0/10', 'RFC 6598 carrier-grade NAT'],
  ['169.254.0.0/16', 'IPv4 link-local'],
  ['fc00::/7', 'IPv6 unique local'],
  ['fe80::/10', 'IPv6 link-local'],
]

/**
 * Special-use ranges no host on the internet can be attacked from: multicast, reserved, "this network" and the
 * unspecified address. Not on the allowlist (nobody blocks them by mistake), but never shared either. The
 * documentation ranges (RFC 5737, RFC 3849) are left out on purpose: tests and the simulator use them as
 * public attacker addresses, and no real traffic comes from them.
 */
export const SPECIAL_USE_RANGES: readonly (readonly [string, string])[] = [
  ['0.0.0.0/8', 'RFC 1122 "this network"'],
  ['224.0.0.0/4', 'IPv4 multicast'],
  ['240.0.0.0/4', 'RFC 1112 reserved and broadcast'],
  ['::/128', 'IPv6 unspecified'],
  ['ff00::/8', 'IPv6 multicast'],
]

/**
 * The broadest ranges a blocklist weighs as evidence (the blocklist's `minEvidencePrefix` default), and so the
 * broadest a node shares: a claim that a /8 attacked says more about the claimant than about the /8.
 */
export const MIN_EVIDENCE_PREFIX: Readonly<{ 4: number; 6: number }> = { 4: 16, 6: 32 }

/** Why an indicator must never leave this node, with the entry or range that says so (for messages). */
export interface Unshareable {
  /** `non-routable`: loopback, private or special-use; `too-broad`: shorter prefix than MIN_EVIDENCE_PREFIX */
  reason: 'non-routable' | 'too-broad' | 'allowlisted'
  entry: AllowEntry
}

function rangeTrie(
  lists: readonly (readonly [readonly (readonly [string, string])[], AllowSource])[],
): CidrTrie<AllowEntry> {
  const trie = new CidrTrie<AllowEntry>()
  for (const [list, source] of lists) {
    for (const [cidr, note] of list) {
      const range = parseIndicator(cidr)
      trie.set(range, { cidr: range.canonical, source, note })
    }
  }
  return trie
}

const NON_ROUTABLE = rangeTrie([
  [LOOPBACK_RANGES, 'loopback'],
  [PRIVATE_RANGES, 'private'],
  [SPECIAL_USE_RANGES, 'special'],
])

function indicatorOf(value: string | Indicator): Indicator | undefined {
  if (typeof value !== 'string') return value
  try {
    return parseIndicator(value)
  } catch {
    return undefined
  }
}

/**
 * Whether an indicator says nothing about anyone else's network: it overlaps loopback, a private or special-use
 * range, or is broader than any blocklist weighs. The one predicate for both sides: a node never publishes such
 * an indicator, and a receiver ignores one at no cost to the sender. Whatever this node's own allowlist says
 * (`blocklist.allowPrivateRanges: false` lets a node block its LAN, not tell the world about it). Text that is
 * not an indicator is not non-routable (the schema refuses it elsewhere).
 */
export function nonRoutable(
  value: string | Indicator,
  minPrefix: Readonly<{ 4: number; 6: number }> = MIN_EVIDENCE_PREFIX,
): Unshareable | undefined {
  const indicator = indicatorOf(value)
  if (indicator === undefined) return undefined
  if (indicator.prefix < minPrefix[indicator.family]) {
    const note = `broader than /${minPrefix[indicator.family]}`
    return { reason: 'too-broad', entry: { cidr: indicator.canonical, source: 'special', note } }
  }
  const [entry] = NON_ROUTABLE.overlapping(indicator)
  return entry === undefined ? undefined : { reason: 'non-routable', entry }
}

export interface AllowlistInit {
  /** allow 127.0.0.0/8 and ::1 (default true) */
  loopback: boolean
  /** allow the private and special ranges in PRIVATE_RANGES (default true) */
  privateRanges: boolean
  /** further addresses or CIDRs, any spelling protocol/indicator accepts */
  extra: string[]
}

export const ALLOWLIST_DEFAULTS: AllowlistInit = { loopback: true, privateRanges: true, extra: [] }

/**
 * Addresses this node never blocks, whatever the evidence. A block that would cover any allowed address is
 * refused outright rather than enforced with holes: enforcers (nftables, ipset, bouncers) apply CIDR entries
 * as a whole, so an entry for 0.0.0.0/1 would cut off 10.0.0.1 on the firewall even if our own lookups
 * skipped it. Callers use `overlaps(cidr)` before adding an entry, `isAllowed(ip)` on lookups, and
 * `onAdd` to withdraw entries that a later allowlist addition (e.g. a newly learnt own address) now overlaps.
 */
export class Allowlist {
  readonly #trie = new CidrTrie<AllowEntry>()
  readonly #listeners = new Set<(entry: AllowEntry, range: Indicator) => void>()

  constructor(init: Partial<AllowlistInit> = {}) {
    const { loopback, privateRanges, extra } = { ...ALLOWLIST_DEFAULTS, ...stripUndefined(init) }
    if (loopback) for (const [cidr, note] of LOOPBACK_RANGES) this.add(cidr, 'loopback', note)
    if (privateRanges) for (const [cidr, note] of PRIVATE_RANGES) this.add(cidr, 'private', note)
    for (const cidr of extra) this.add(cidr, 'config', 'configured')
  }

  get size(): number {
    return this.#trie.size
  }

  /**
   * Allows an address or range (throws InvalidIndicatorError for bad text). Listeners hear about it so
   * entries it now overlaps can be withdrawn. Adding a range that is already present keeps the first source.
   */
  add(cidr: string, source: AllowSource = 'config', note: string = source): AllowEntry {
    const range = parseIndicator(cidr)
    const existing = this.#trie.get(range)
    if (existing !== undefined) return existing
    const entry: AllowEntry = { cidr: range.canonical, source, note }
    this.#trie.set(range, entry)
    for (const listener of this.#listeners) listener(entry, range)
    return entry
  }

  /** This node's own address (from its listen addresses or as seen by peers). */
  addSelf(address: string): AllowEntry {
    return this.add(address, 'self', "this node's address")
  }

  /** Removes exactly this range; returns whether it was there. */
  remove(cidr: string): boolean {
    return this.#trie.delete(parseIndicator(cidr))
  }

  /** Whether the address is allowed; false for anything that is not an address. */
  isAllowed(ip: string | Uint8Array): boolean {
    return this.#trie.covers(ip)
  }

  /** The most specific allowlist entry covering the address, for messages. */
  why(ip: string): AllowEntry | undefined {
    return this.#trie.covering(ip)[0]
  }

  /**
   * Allowlist entries sharing any address with the given address or CIDR: those containing it and those
   * inside it. Non-empty means blocking `cidr` would block something allowed. Throws for bad text.
   */
  overlaps(cidr: string | Indicator): AllowEntry[] {
    return this.#trie.overlapping(typeof cidr === 'string' ? parseIndicator(cidr) : cidr)
  }

  /**
   * Why this node must never publish an alert, sighting or summary entry about the indicator, or undefined
   * when it may. Everything it would never block itself stays here: a non-routable indicator (see
   * `nonRoutable`) and anything overlapping this allowlist, whose entries (configured, added through the API,
   * this node's own addresses) would leak with the report. Text that is not an indicator gives undefined.
   */
  unshareable(
    value: string | Indicator,
    minPrefix: Readonly<{ 4: number; 6: number }> = MIN_EVIDENCE_PREFIX,
  ): Unshareable | undefined {
    const indicator = indicatorOf(value)
    if (indicator === undefined) return undefined
    const special = nonRoutable(indicator, minPrefix)
    if (special !== undefined) return special
    const [entry] = this.#trie.overlapping(indicator)
    return entry === undefined ? undefined : { reason: 'allowlisted', entry }
  }

  entries(): AllowEntry[] {
    return [...this.#trie.values()]
  }

  onAdd(listener: (entry: AllowEntry, range: Indicator) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }
}
