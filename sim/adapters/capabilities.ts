import type { ShieldwallNode } from '../../node/shieldwall-node.ts'
import { blocklistOf } from './block-watcher.ts'

/** Features being built alongside the simulator; assertions that need a missing one are reported as skipped. */
export type Capability = 'blocklist' | 'reputation' | 'catch-up' | 'learning'

export function capabilitiesOf(node: ShieldwallNode): Set<Capability> {
  const caps = new Set<Capability>()
  if (blocklistOf(node) !== undefined) caps.add('blocklist')
  if ('reputation' in node) caps.add('reputation')
  // Heuristic until catch-up has a flag of its own: a node that catches up serves a sync/catch-up protocol.
  if (node.host.getProtocols().some((p) => /\/shieldwall\/.*(sync|catch)/i.test(p)) || 'catchUp' in node)
    caps.add('catch-up')
  if ('learning' in node) caps.add('learning')
  return caps
}
