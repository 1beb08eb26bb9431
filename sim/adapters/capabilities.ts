import type { ShieldwallNode } from '../../node/shieldwall-node.ts'

/**
 * Features still being built alongside the simulator; assertions that need a missing one are reported as
 * skipped. The blocklist, reputation and catch-up are part of every node now.
 */
export type Capability = 'sightings' | 'learning'

export function capabilitiesOf(node: ShieldwallNode): Set<Capability> {
  const caps = new Set<Capability>()
  if (typeof (node.detection as { onSighting?: unknown }).onSighting === 'function') caps.add('sightings')
  if (node.config.learning.enabled) caps.add('learning')
  return caps
}
