import type { ShieldwallNode } from '../node/shieldwall-node.ts'

type Gater = Record<string, unknown>

/**
 * Makes a node refuse connections to and from peers `denied` names, for partitions.
 *
 * SIM-HOOK (remove when node/ takes a `connectionGater` option): libp2p keeps the gater it was configured with
 * (an empty object by default) in `host.components.connectionGater` and consults it on every dial and every
 * upgrade, so filling in its methods after start has the same effect as configuring it. This reaches into a
 * libp2p internal; the supported way is a `connectionGater` passed through `NodeOptions` to `createHost`.
 * Returns false when the internal is not where we expect it (partitions then only close connections).
 */
export function installPartitionGater(
  node: ShieldwallNode,
  denied: (remotePeerId: string) => boolean,
): boolean {
  const components = (node.host as unknown as { components?: { connectionGater?: Gater } }).components
  const gater = components?.connectionGater
  if (gater === undefined || gater === null || typeof gater !== 'object') return false
  const byPeer = (peer: { toString(): string }) => denied(peer.toString())
  gater.denyDialPeer = async (peer: { toString(): string }) => byPeer(peer)
  gater.denyInboundEncryptedConnection = async (peer: { toString(): string }) => byPeer(peer)
  gater.denyOutboundEncryptedConnection = async (peer: { toString(): string }) => byPeer(peer)
  gater.denyInboundUpgradedConnection = async (peer: { toString(): string }) => byPeer(peer)
  gater.denyOutboundUpgradedConnection = async (peer: { toString(): string }) => byPeer(peer)
  return true
}
