import type { BlockChange, BlocklistView } from '../../node/blocklist/block-entry.ts'
import type { ShieldwallNode } from '../../node/shieldwall-node.ts'
import { indicatorContains, parseIndicator } from '../../protocol/indicator.ts'

/**
 * Which blocks the simulator counts. `blocklist`: entries on `node.blocklist` (what an honest node enforces).
 * `fallback` (FALLBACK-BEFORE-BLOCKLIST): "the node has a local decision or any accepted alert for the address",
 * with no reputation weighing at all, so every Sybil report counts. `auto`: the blocklist when nodes have one
 * and it received entries during the run, else the fallback. Delete the fallback once the blocklist is wired.
 */
export type BlockSource = 'auto' | 'blocklist' | 'fallback'

export function blocklistOf(node: ShieldwallNode): BlocklistView | undefined {
  if (!('blocklist' in node)) return undefined
  try {
    const view = (node as unknown as { blocklist?: BlocklistView }).blocklist
    return view !== undefined && typeof view.onChange === 'function' ? view : undefined
  } catch {
    return undefined
  }
}

/** First time each address became blocked, by one rule. */
export class BlockRecorder {
  readonly firstBlocked = new Map<string, number>()
  readonly addTimes: number[] = []
  readonly #ranges: { range: ReturnType<typeof parseIndicator>; at: number }[] = []

  record(value: string, at: number): void {
    if (this.firstBlocked.has(value)) return
    this.firstBlocked.set(value, at)
    this.addTimes.push(at)
    if (value.includes('/')) this.#ranges.push({ range: parseIndicator(value), at })
  }

  /** when `ip` first became blocked (its own entry or a range covering it), or undefined */
  blockedAt(ip: string): number | undefined {
    let at = this.firstBlocked.get(ip)
    if (this.#ranges.length > 0) {
      const target = parseIndicator(ip)
      for (const r of this.#ranges)
        if (indicatorContains(r.range, target) && (at === undefined || r.at < at)) at = r.at
    }
    return at
  }
}

/** Everything one member blocked, kept across that member's restarts. */
export class BlockWatcher {
  readonly blocklist = new BlockRecorder()
  // FALLBACK-BEFORE-BLOCKLIST: delete with `#attachFallback` once node.blocklist is fed by detection and alerts.
  readonly fallback = new BlockRecorder()
  /** addresses this member's own detectors decided on -> first decision time */
  readonly localAt = new Map<string, number>()
  hasBlocklist = false

  attach(node: ShieldwallNode): () => void {
    const offs: (() => void)[] = []
    offs.push(
      node.detection.onDecision((d) => {
        if (!this.localAt.has(d.ip)) this.localAt.set(d.ip, Date.now())
      }),
    )
    const view = blocklistOf(node)
    if (view !== undefined) {
      this.hasBlocklist = true
      for (const e of view.entries()) this.blocklist.record(e.value, Date.now())
      offs.push(
        view.onChange((c: BlockChange) => {
          if (c.kind === 'added') this.blocklist.record(c.entry.value, Date.now())
        }),
      )
    }
    offs.push(this.#attachFallback(node))
    return () => offs.forEach((off) => off())
  }

  #attachFallback(node: ShieldwallNode): () => void {
    const offDecision = node.detection.onDecision((d) => this.fallback.record(d.ip, Date.now()))
    const offAlert = node.alerts.onAlert((a) => this.fallback.record(a.indicator, Date.now()))
    return () => {
      offDecision()
      offAlert()
    }
  }
}

/** The rule a run is measured with: `auto` takes the blocklist only when it is present and saw entries. */
export function resolveBlockSource(
  requested: BlockSource,
  watchers: BlockWatcher[],
): 'blocklist' | 'fallback' {
  if (requested !== 'auto') return requested
  const present = watchers.some((w) => w.hasBlocklist)
  const fed = watchers.some((w) => w.blocklist.firstBlocked.size > 0)
  return present && fed ? 'blocklist' : 'fallback'
}
