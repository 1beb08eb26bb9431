import type { BlockSnapshot } from '../adapters/block-watcher.ts'
import type { Capability } from '../adapters/capabilities.ts'
import type { GossipCounts } from '../metrics/gossip-meter.ts'
import type { PublishedAlert } from '../metrics/measurements.ts'
import type { ThreadUsage } from '../metrics/resource-meter.ts'
import type { SimNetworkInit } from '../network.ts'

/**
 * A shard runs some of the simulated members' nodes on one thread: the main thread's (one shard) or a worker's
 * (several, so a large network uses every core). The scenario drives every shard through this one interface,
 * so a run on one thread and a run on several take the same path. Everything crossing it is plain data.
 */
export interface Shard {
  create(): Promise<void>
  /** starts a member's node; returns when it started and the addresses it listens on */
  start(index: number): Promise<{ up: number; addresses: string[] }>
  /** stops a member's node; `down` is when it began to stop */
  stop(index: number): Promise<{ down: number }>
  /** where members of other shards listen (bootstrap peers), for the bootstrap lists of this shard's members */
  knowAddresses(index: number, addresses: string[]): Promise<void>
  /** appends lines to members' guarded-service logs, as sshd or nginx would */
  append(batches: LogBatch[]): Promise<void>
  /** a hostile member falsely reports `ip` through its own node */
  falseReport(index: number, ip: string): Promise<void>
  /** how many of this shard's online members see at least one peer subscribed to alerts */
  subscribersReady(): Promise<number>
  /** this thread's event loop counters and heap, its members' blocks and published alerts */
  sample(): Promise<ShardSample>
  /** sums of `observers`' trust in every member (those of the observers this shard runs) */
  trustSums(observers: number[]): Promise<TrustSums>
  /** among `honest`, how many ordered pairs (observer here, peer) are trusted over `threshold` */
  trustPairs(honest: number[], threshold: number, minTrustedReporters: number): Promise<TrustPairs>
  partition(groups: number[][]): Promise<void>
  heal(): Promise<void>
  /** forgets what was observed so far (the organic warm-up is not part of the measured run) */
  resetObservations(): Promise<void>
  /** the features of this shard's first online honest node, or null when it runs none */
  capabilities(): Promise<Capability[] | null>
  /** what every member of this shard observed, read once at the end while the nodes still run */
  collect(): Promise<ShardCollection>
  /** stops every node; the run directory stays (the orchestrator owns it) */
  destroy(): Promise<void>
}

export interface ShardInit {
  network: SimNetworkInit & { local: number[]; runDir: string; runId: string }
}

export interface LogBatch {
  member: number
  file: 'auth' | 'access'
  lines: string[]
}

export interface ShardSample {
  usage: ThreadUsage
  /** (member, address) blocks held by this shard's members */
  blocks: number
  /** alerts this shard's members published */
  alerts: number
}

export interface TrustSums {
  /** role -> [sum of trust, count] */
  trust: Record<'honest' | 'hostile', [number, number]>
  /** role -> [sum of gossipsub score, count] (peers the observer has a score for) */
  gossip: Record<'honest' | 'hostile', [number, number]>
}

export interface TrustPairs {
  pairs: number
  trustedPairs: number
  minTrust: number
  nodesWithQuorum: number
}

export interface MemberCollection {
  index: number
  online: boolean
  connections: number
  blocks: BlockSnapshot
  community: BlockSnapshot
  localAt: Map<string, number>
  sightedAt: Map<string, number>
  gossip: GossipCounts
  alertCounts: { accepted: number; rejected: number; ignored: number; held: number }
}

export interface ShardCollection {
  members: MemberCollection[]
  /** alerts as this shard saw them: the publisher when one of its members published, its members' receipts */
  alerts: PublishedAlert[]
  /** the nodes' minTrustedReporters, when this shard has a node online */
  quorum: number | null
}
