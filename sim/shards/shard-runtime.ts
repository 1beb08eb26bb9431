import { peerGossipScore } from '../../node/p2p/gossip-scoring.ts'
import type { ShieldwallNode } from '../../node/shieldwall-node.ts'
import { TOPICS } from '../../protocol/topics.ts'
import { BlockWatcher } from '../adapters/block-watcher.ts'
import { capabilitiesOf, type Capability } from '../adapters/capabilities.ts'
import { falseReport } from '../hostile/hostile-actions.ts'
import { meterGossip, newGossipCounts, type GossipCounts } from '../metrics/gossip-meter.ts'
import type { PublishedAlert } from '../metrics/measurements.ts'
import { threadUsage } from '../metrics/resource-meter.ts'
import { SimNetwork, SimNetworkError, type SimMember } from '../network.ts'
import type {
  LogBatch,
  MemberCollection,
  Shard,
  ShardCollection,
  ShardInit,
  ShardSample,
  TrustPairs,
  TrustSums,
} from './shard.ts'

interface MemberState {
  watcher: BlockWatcher
  gossip: GossipCounts
  /** ids of distinct gossip messages received, across restarts */
  seen: Set<string>
  alertCounts: { accepted: number; rejected: number; ignored: number; held: number }
  detach?: () => void
}

/**
 * Runs a shard's members in this thread and watches them: their blocks, detections, sightings, gossip and
 * alerts, kept across restarts. The orchestrator reads it all once, through `collect`.
 */
export class ShardRuntime implements Shard {
  readonly network: SimNetwork
  readonly #states = new Map<number, MemberState>()
  readonly #alerts = new Map<string, PublishedAlert>()

  constructor(init: ShardInit) {
    this.network = new SimNetwork(init.network)
    this.network.onStarted((m, node) => this.#attach(m, node))
    this.network.onStopping((m, node) => {
      const st = this.#state(m.index)
      st.detach?.()
      addCounts(st, node)
    })
  }

  async create(): Promise<void> {
    await this.network.create()
    for (const m of this.network.members)
      if (this.network.isLocal(m))
        this.#states.set(m.index, {
          watcher: new BlockWatcher(),
          gossip: newGossipCounts(),
          seen: new Set(),
          alertCounts: { accepted: 0, rejected: 0, ignored: 0, held: 0 },
        })
  }

  async start(index: number): Promise<{ up: number; addresses: string[] }> {
    const m = this.#member(index)
    const node = await this.network.start(m)
    return { up: m.spans.at(-1)?.up ?? Date.now(), addresses: node.addresses() }
  }

  async stop(index: number): Promise<{ down: number }> {
    const m = this.#member(index)
    await this.network.stop(m)
    return { down: m.spans.at(-1)?.down ?? Date.now() }
  }

  async knowAddresses(index: number, addresses: string[]): Promise<void> {
    this.network.knowAddresses(index, addresses)
  }

  async append(batches: LogBatch[]): Promise<void> {
    await Promise.all(
      batches.map((b) => {
        const m = this.#member(b.member)
        // the machine is down: its service logs nothing the node would read
        return m.node === undefined ? undefined : this.network.append(m, b.file, b.lines)
      }),
    )
  }

  async falseReport(index: number, ip: string): Promise<void> {
    const node = this.#member(index).node
    if (node !== undefined) await falseReport(node, ip).catch(() => undefined)
  }

  async subscribersReady(): Promise<number> {
    return this.network
      .online()
      .filter((m) => (m.node as ShieldwallNode).host.services.pubsub.getSubscribers(TOPICS.alerts).length > 0)
      .length
  }

  async sample(): Promise<ShardSample> {
    let blocks = 0
    for (const st of this.#states.values()) blocks += st.watcher.blocks.firstBlocked.size
    let alerts = 0
    for (const a of this.#alerts.values()) if (a.publisher >= 0) alerts++
    return { usage: threadUsage(), blocks, alerts }
  }

  async trustSums(observers: number[]): Promise<TrustSums> {
    const sums: TrustSums = {
      trust: { honest: [0, 0], hostile: [0, 0] },
      gossip: { honest: [0, 0], hostile: [0, 0] },
    }
    for (const index of observers) {
      const node = this.#localMember(index)?.node
      if (node === undefined) continue
      for (const p of this.network.members) {
        if (p.index === index) continue
        const t = sums.trust[p.role]
        t[0] += node.reputation.trust(p.peerId)
        t[1] += 1
        const score = peerGossipScore(node.host.services.pubsub, p.peerId)
        if (score !== undefined) {
          const g = sums.gossip[p.role]
          g[0] += score
          g[1] += 1
        }
      }
    }
    return sums
  }

  async trustPairs(honest: number[], threshold: number, minTrustedReporters: number): Promise<TrustPairs> {
    const out: TrustPairs = { pairs: 0, trustedPairs: 0, minTrust: 1, nodesWithQuorum: 0 }
    for (const index of honest) {
      const node = this.#localMember(index)?.node
      if (node === undefined) continue
      let trusted = 0
      for (const peer of honest) {
        if (peer === index) continue
        const t = node.reputation.trust((this.network.members[peer] as SimMember).peerId)
        out.pairs++
        out.minTrust = Math.min(out.minTrust, t)
        if (t >= threshold) {
          trusted++
          out.trustedPairs++
        }
      }
      if (trusted >= minTrustedReporters - 1) out.nodesWithQuorum++
    }
    return out
  }

  async partition(groups: number[][]): Promise<void> {
    await this.network.partition(groups)
  }

  async heal(): Promise<void> {
    await this.network.heal()
  }

  async resetObservations(): Promise<void> {
    for (const st of this.#states.values()) st.watcher.reset()
    this.#alerts.clear()
  }

  async capabilities(): Promise<Capability[] | null> {
    const online = this.network.online()
    const m = online.find((x) => x.role === 'honest') ?? online[0]
    return m?.node === undefined ? null : [...capabilitiesOf(m.node)]
  }

  async collect(): Promise<ShardCollection> {
    const members: MemberCollection[] = []
    for (const [index, st] of this.#states) {
      const node = this.#member(index).node
      const counts = { ...st.alertCounts }
      if (node !== undefined) addCounts({ alertCounts: counts }, node)
      members.push({
        index,
        online: node !== undefined,
        connections: node?.host.getConnections().length ?? 0,
        blocks: st.watcher.blocks.snapshot(),
        community: st.watcher.community.snapshot(),
        localAt: new Map(st.watcher.localAt),
        sightedAt: new Map(st.watcher.sightedAt),
        gossip: { ...st.gossip },
        alertCounts: counts,
      })
    }
    const node = this.network.online()[0]?.node
    return {
      members,
      alerts: [...this.#alerts.values()],
      quorum: node?.blocklist.policy.minTrustedReporters ?? null,
    }
  }

  async destroy(): Promise<void> {
    await this.network.destroy()
  }

  #attach(m: SimMember, node: ShieldwallNode): void {
    const st = this.#state(m.index)
    const offBlocks = st.watcher.attach(node)
    meterGossip(node.host.services.pubsub, st.gossip, st.seen)
    const offAlerts = node.alerts.onAlert((a) => {
      let rec = this.#alerts.get(a.id)
      if (rec === undefined) {
        rec = { id: a.id, publisher: -1, publishedAt: a.createdAt, receivedBy: new Map() }
        this.#alerts.set(a.id, rec)
      }
      if (a.origin === 'local') rec.publisher = m.index
      else rec.receivedBy.set(m.index, Date.now())
    })
    st.detach = () => {
      offBlocks()
      offAlerts()
    }
  }

  #member(index: number): SimMember {
    const m = this.#localMember(index)
    if (m === undefined) throw new SimNetworkError(`member ${index} does not run in this shard`)
    return m
  }

  #localMember(index: number): SimMember | undefined {
    const m = this.network.members[index]
    return m !== undefined && this.network.isLocal(m) ? m : undefined
  }

  #state(index: number): MemberState {
    const st = this.#states.get(index)
    if (st === undefined) throw new SimNetworkError(`member ${index} does not run in this shard`)
    return st
  }
}

/** Adds a node's alert counters (they restart at zero with the node) to what its member had before. */
function addCounts(st: Pick<MemberState, 'alertCounts'>, node: ShieldwallNode): void {
  const c = node.alerts.counts
  const sum = (o: Record<string, number | undefined>) =>
    Object.values(o).reduce<number>((a, b) => a + (b ?? 0), 0)
  st.alertCounts.accepted += c.accepted
  st.alertCounts.rejected += sum(c.rejected)
  st.alertCounts.ignored += sum(c.ignored)
  st.alertCounts.held += c.held
}
