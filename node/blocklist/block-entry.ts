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
  /**
   * plain-language explanation: which reporters, which scenarios, what tipped it. Complete in change events
   * and in what a mutation returns; entries read synchronously from the node's Blocklist (`get`, `lookup`,
   * `entries`) carry a one-line summary naming the scenario and origin instead (a shared, frozen array), and
   * `Blocklist.details()` / `withDetails()` load the recorded reasons from the store.
   */
  reasons: string[]
  /**
   * peer ids whose alerts count towards this entry (empty for local and manual entries). Complete where
   * `reasons` is; synchronous reads from the node's Blocklist hold the first HELD_REPORTERS (4) of them
   * (`node/blocklist/entry-table.ts`), the full list is in `details()`.
   */
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

/**
 * What enforcers may read. Lookups are by address; CIDR entries cover every address inside them. What the
 * synchronous reads return are snapshots, possibly built afresh per call: compare entries by `id`, not by
 * identity, and do not change them. Their `reasons` and `reporters` may be abridged (see BlockEntry).
 */
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
