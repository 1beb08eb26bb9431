import type { BlockChange } from '../../node/blocklist/block-entry.ts'
import type { ShieldwallNode } from '../../node/shieldwall-node.ts'
import { indicatorContains, parseIndicator } from '../../protocol/indicator.ts'

/** address -> first blocked, in the order recorded (which is what `addTimes` lists) */
export type BlockSnapshot = Map<string, number>

/** First time each address became blocked. */
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

  /** what it recorded, as plain data another thread can receive */
  snapshot(): BlockSnapshot {
    return new Map(this.firstBlocked)
  }

  static fromSnapshot(s: BlockSnapshot): BlockRecorder {
    const r = new BlockRecorder()
    for (const [value, at] of s) r.record(value, at)
    return r
  }

  clear(): void {
    this.firstBlocked.clear()
    this.addTimes.length = 0
    this.#ranges.length = 0
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

/**
 * What one member blocked, kept across its restarts: the entries its enforcers read from `node.blocklist`
 * whose origin is evidence (`local`: its own detectors, `community`: peers' alerts weighed by trust). Manual
 * entries are the operator's and not part of what the defense decided.
 */
export class BlockWatcher {
  readonly blocks = new BlockRecorder()
  /** the subset decided by the community rule, for the report */
  readonly community = new BlockRecorder()
  /** addresses this member's own detectors decided on -> first decision time */
  readonly localAt = new Map<string, number>()
  /** addresses this member sighted (half a bucket, below a ban) -> first sighting time */
  readonly sightedAt = new Map<string, number>()

  /** forgets everything recorded so far (the organic warm-up's blocks are not part of the measured run) */
  reset(): void {
    this.blocks.clear()
    this.community.clear()
    this.localAt.clear()
    this.sightedAt.clear()
  }

  attach(node: ShieldwallNode): () => void {
    const offs: (() => void)[] = []
    offs.push(
      node.detection.onDecision((d) => {
        if (!this.localAt.has(d.ip)) this.localAt.set(d.ip, Date.now())
      }),
    )
    const detection = node.detection as { onSighting?: (l: (f: { ip: string }) => void) => () => void }
    if (typeof detection.onSighting === 'function') {
      offs.push(
        detection.onSighting.call(node.detection, (f) => {
          if (!this.sightedAt.has(f.ip)) this.sightedAt.set(f.ip, Date.now())
        }),
      )
    }
    const record = (origin: string, value: string, at: number) => {
      if (origin === 'manual') return
      this.blocks.record(value, at)
      if (origin === 'community') this.community.record(value, at)
    }
    // entries kept from before a restart (or caught up) count from when the member is back
    for (const e of node.blocklist.entries()) record(e.origin, e.value, Date.now())
    offs.push(
      node.blocklist.onChange((c: BlockChange) => {
        if (c.kind === 'added') record(c.entry.origin, c.entry.value, Date.now())
      }),
    )
    return () => offs.forEach((off) => off())
  }
}
