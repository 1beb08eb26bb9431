import type { ShieldwallNode } from '../../node/shieldwall-node.ts'

export type TrustSource = 'reputation' | 'gossipsub-score'

interface ReputationLike {
  trust(peerId: string): number
}

/**
 * How much `node` trusts `peerId`: the ReputationBook's `trust` when `node.reputation` exists (issue 4), else
 * FALLBACK-BEFORE-REPUTATION: the node's gossipsub score of the peer, which only reflects transport behaviour
 * (invalid messages, mesh time), not whether its reports were true. Delete the fallback once reputation lands.
 */
export function trustOf(node: ShieldwallNode, peerId: string): { value: number; source: TrustSource } {
  if ('reputation' in node) {
    try {
      const book = (node as unknown as { reputation?: ReputationLike }).reputation
      if (book !== undefined && typeof book.trust === 'function')
        return { value: book.trust(peerId), source: 'reputation' }
    } catch {
      // not started: fall through
    }
  }
  const pubsub = node.host.services.pubsub as unknown as { getScore(id: string): number }
  return { value: pubsub.getScore(peerId), source: 'gossipsub-score' }
}
