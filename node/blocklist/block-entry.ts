/**
 * The blocklist's public shape, shared by the rules that build it (`decide-block.ts`, `blocklist.ts`) and the
 * enforcers that read it (CrowdSec bouncer API, server-sent events, exporters).
 */

/** Who put an entry on the list: this node's detectors, the community's weighed alerts, or an admin. */
export type BlockOrigin = 'local' | 'community' | 'manual'

export interface BlockEntry {
  /**
   * Positive integer, unique per activation of an entry on this node (a renewed block of the same value gets
   * a new id), so bouncers that key on CrowdSec's decision `id` see a change as delete + new.
   */
  id: number
  /** canonical IPv4/IPv6 address or CIDR (`protocol/indicator.ts`) */
  value: string
  /** CrowdSec's scopes: `ip` for one address, `range` for a CIDR */
  scope: 'ip' | 'range'
  type: 'ban'
  origin: BlockOrigin
  /** the scenario that weighed most, e.g. `ssh-bf`; `manual` for admin entries */
  scenario: string
  /** combined evidence, 0..1 */
  score: number
  /** plain-language explanation: which reporters, which scenarios, what tipped it */
  reasons: string[]
  /** peer ids whose alerts count towards this entry (empty for local and manual entries) */
  reporters: string[]
  /** ms since the epoch */
  createdAt: number
  expiresAt: number
  /** how many times this value has been blocked on this node, 1 for the first */
  offence: number
}

export type BlockChange =
  | { kind: 'added'; entry: BlockEntry }
  | { kind: 'removed'; entry: BlockEntry; reason: 'expired' | 'manual' | 'allowlisted' | 'replaced' }

/** What enforcers may read. Lookups are by address; CIDR entries cover every address inside them. */
export interface BlocklistView {
  readonly size: number
  /** the active entry for exactly this value (address or CIDR), if any */
  get(value: string): BlockEntry | undefined
  /** every active entry that covers `ip` (the address itself and any CIDR containing it), most specific first */
  lookup(ip: string): BlockEntry[]
  /** every active entry, in no promised order */
  entries(): IterableIterator<BlockEntry>
  /** called synchronously after each change; returns an unsubscribe function */
  onChange(listener: (change: BlockChange) => void): () => void
}
