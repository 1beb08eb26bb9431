import { peerGossipScore } from '../../node/p2p/gossip-scoring.ts'
import type { ShieldwallNode } from '../../node/shieldwall-node.ts'

/**
 * How much `node` trusts `peerId`: its reputation book's trust (what weighs the peer's alerts, 0..1) and its
 * gossipsub score of the peer (transport conduct with the reputation folded in; undefined when not a peer).
 */
export function trustOf(node: ShieldwallNode, peerId: string): { trust: number; gossip: number | undefined } {
  return {
    trust: node.reputation.trust(peerId),
    gossip: peerGossipScore(node.host.services.pubsub, peerId),
  }
}
