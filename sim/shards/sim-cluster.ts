import { randomBytes } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { stripUndefined } from '../../node/service-init.ts'
import type { Capability } from '../adapters/capabilities.ts'
import type { PublishedAlert } from '../metrics/measurements.ts'
import { threadUsage, type ThreadUsage } from '../metrics/resource-meter.ts'
import {
  memberLayout,
  prepareRunDir,
  SIM_NETWORK_DEFAULTS,
  SimNetworkError,
  sleep,
  type MemberInfo,
  type OnlineSpan,
  type SimNetwork,
  type SimNetworkInit,
} from '../network.ts'
import { ShardRuntime } from './shard-runtime.ts'
import type { LogBatch, MemberCollection, Shard, ShardInit, TrustPairs, TrustSums } from './shard.ts'
import { WorkerShard } from './worker-shard.ts'

/** What the orchestrator knows of a member: who it is, where it runs, and when it was up. */
export interface ClusterMember extends MemberInfo {
  shard: number
  online: boolean
  spans: OnlineSpan[]
  /** chosen to leave and rejoin by a churn event */
  churn?: boolean
}

/** one line for a member's guarded-service log */
export interface LogLine {
  member: number
  file: LogBatch['file']
  text: string
}

export interface ClusterCollection {
  members: Map<number, MemberCollection>
  alerts: PublishedAlert[]
  quorum: number | null
}

/** Member i runs in shard i mod shards: every shard gets a share of bootstrap, honest and hostile members. */
function shardOf(index: number, shards: number): number {
  return index % shards
}

/**
 * The whole simulated network as the scenario drives it, its members spread over shards: with one shard every
 * node runs in this thread (over the memory transport, as before); with more, each shard is a worker thread,
 * members of one shard meet over memory and members of different shards over TCP loopback (see `shardOf`).
 */
export class SimCluster {
  readonly init: SimNetworkInit
  readonly members: ClusterMember[]
  readonly shards: Shard[]
  readonly #runDir: string
  /** the in-thread shard, when there is only one */
  readonly #local: ShardRuntime | undefined
  #destroyed = false
  /** members whose node is stopping, until it has */
  readonly #stopping = new Map<number, Promise<void>>()

  private constructor(init: SimNetworkInit, runDir: string, shards: Shard[], local?: ShardRuntime) {
    this.init = init
    this.#runDir = runDir
    this.shards = shards
    this.#local = local
    this.members = memberLayout(init, runDir).map((m) => ({
      ...m,
      shard: shardOf(m.index, shards.length),
      online: false,
      spans: [],
    }))
  }

  /** Prepares the run directory and the shards' networks; no node runs yet. */
  static async open(
    init: Partial<SimNetworkInit> & Pick<SimNetworkInit, 'roles'>,
    shards: number,
  ): Promise<SimCluster> {
    if (!Number.isInteger(shards) || shards < 1) throw new SimNetworkError(`shards: ${shards}, expected >= 1`)
    const nodes = init.nodes ?? init.roles.length
    if (shards > nodes) throw new SimNetworkError(`${shards} shards for ${nodes} nodes`)
    const full: SimNetworkInit = {
      ...SIM_NETWORK_DEFAULTS,
      ...stripUndefined(init),
      roles: init.roles,
      nodes,
    }
    const runDir = await prepareRunDir({ nodes, seed: full.seed, roles: init.roles })
    const runId = randomBytes(4).toString('hex')
    const list: Shard[] = []
    let local: ShardRuntime | undefined
    try {
      for (let s = 0; s < shards; s++) {
        const shardInit: ShardInit = {
          network: {
            ...full,
            local: Array.from({ length: nodes }, (_, i) => i).filter((i) => shardOf(i, shards) === s),
            runDir,
            runId,
          },
        }
        if (shards === 1) list.push((local = new ShardRuntime(shardInit)))
        else list.push(new WorkerShard(s, shardInit))
      }
      await Promise.all(list.map((s) => s.create()))
      return new SimCluster(full, runDir, list, local)
    } catch (err) {
      await Promise.all(list.map((s) => s.destroy().catch(() => undefined)))
      if (!full.keepData) await rm(runDir, { recursive: true, force: true })
      throw err
    }
  }

  /** the network when every node runs in this thread (what federated rounds drive directly), else undefined */
  get localNetwork(): SimNetwork | undefined {
    return this.#local?.network
  }

  online(): ClusterMember[] {
    return this.members.filter((m) => m.online)
  }

  #shard(m: ClusterMember): Shard {
    return this.shards[m.shard] as Shard
  }

  /** Starts every member in order, `staggerMs` apart; bootstrap peers first so the others have someone to call. */
  async startAll(onProgress?: (started: number) => void): Promise<void> {
    for (const m of this.members) {
      await this.start(m)
      onProgress?.(m.index + 1)
      if (this.init.staggerMs > 0) await sleep(this.init.staggerMs)
    }
  }

  async start(m: ClusterMember): Promise<void> {
    if (m.online) return
    // a rejoin waits until the member's previous node has stopped (its data dir is locked until then)
    await this.#stopping.get(m.index)
    if (m.online) return
    const { up, addresses } = await this.#shard(m).start(m.index)
    m.online = true
    m.spans.push({ up })
    // the other shards' members reach a bootstrap peer at the addresses it listens on now
    if (this.shards.length > 1 && m.index < this.init.bootstrapPeers)
      await Promise.all(
        this.shards.map((s, i) => (i === m.shard ? undefined : s.knowAddresses(m.index, addresses))),
      )
  }

  async stop(m: ClusterMember): Promise<void> {
    if (!m.online) return
    // offline from now: its logs take no more lines, and its span closes before any rejoin can open the next
    m.online = false
    const span = m.spans.at(-1)
    if (span !== undefined) span.down = Date.now()
    const stopping = this.#shard(m)
      .stop(m.index)
      .then(() => undefined)
      .finally(() => this.#stopping.delete(m.index))
    this.#stopping.set(
      m.index,
      stopping.catch(() => undefined),
    )
    await stopping
  }

  /**
   * Appends lines to members' logs, in order, one batch per member and file to each shard; lines for a member
   * that is down are dropped (the machine is down: its service logs nothing).
   */
  async append(lines: LogLine[]): Promise<void> {
    const byShard = new Map<Shard, Map<string, LogBatch>>()
    for (const l of lines) {
      const m = this.members[l.member] as ClusterMember
      if (!m.online) continue
      const shard = this.#shard(m)
      let batches = byShard.get(shard)
      if (batches === undefined) byShard.set(shard, (batches = new Map()))
      const key = `${l.member}/${l.file}`
      let batch = batches.get(key)
      if (batch === undefined) batches.set(key, (batch = { member: l.member, file: l.file, lines: [] }))
      batch.lines.push(l.text)
    }
    await Promise.all([...byShard].map(([shard, batches]) => shard.append([...batches.values()])))
  }

  async falseReport(m: ClusterMember, ip: string): Promise<void> {
    if (m.online) await this.#shard(m).falseReport(m.index, ip)
  }

  async subscribersReady(): Promise<number> {
    return (await Promise.all(this.shards.map((s) => s.subscribersReady()))).reduce((a, b) => a + b, 0)
  }

  /**
   * Every thread of the run, in shard order (with worker shards, the main thread that schedules them last), and
   * the blocks and alerts their members hold.
   */
  async sample(): Promise<{ threads: ThreadUsage[]; blocks: number; alerts: number }> {
    const samples = await Promise.all(this.shards.map((s) => s.sample()))
    const threads = samples.map((s) => s.usage)
    if (this.#local === undefined) threads.push(threadUsage())
    return {
      threads,
      blocks: samples.reduce((s, x) => s + x.blocks, 0),
      alerts: samples.reduce((s, x) => s + x.alerts, 0),
    }
  }

  async trustSums(observers: number[]): Promise<TrustSums> {
    const parts = await Promise.all(this.shards.map((s) => s.trustSums(observers)))
    const sum = (pick: (t: TrustSums) => [number, number]): [number, number] => [
      parts.reduce((a, p) => a + pick(p)[0], 0),
      parts.reduce((a, p) => a + pick(p)[1], 0),
    ]
    return {
      trust: { honest: sum((p) => p.trust.honest), hostile: sum((p) => p.trust.hostile) },
      gossip: { honest: sum((p) => p.gossip.honest), hostile: sum((p) => p.gossip.hostile) },
    }
  }

  async trustPairs(honest: number[], threshold: number, minTrustedReporters: number): Promise<TrustPairs> {
    const parts = await Promise.all(
      this.shards.map((s) => s.trustPairs(honest, threshold, minTrustedReporters)),
    )
    return {
      pairs: parts.reduce((a, p) => a + p.pairs, 0),
      trustedPairs: parts.reduce((a, p) => a + p.trustedPairs, 0),
      minTrust: Math.min(1, ...parts.map((p) => p.minTrust)),
      nodesWithQuorum: parts.reduce((a, p) => a + p.nodesWithQuorum, 0),
    }
  }

  /** Splits the network: members only talk within their group (each shard's nodes gate their own dials). */
  async partition(groups: number[][]): Promise<void> {
    await Promise.all(this.shards.map((s) => s.partition(groups)))
  }

  async heal(): Promise<void> {
    await Promise.all(this.shards.map((s) => s.heal()))
  }

  async resetObservations(): Promise<void> {
    await Promise.all(this.shards.map((s) => s.resetObservations()))
  }

  /** the features of the first node online (each shard prefers an honest one); all nodes run the same code */
  async capabilities(): Promise<Set<Capability>> {
    for (const s of this.shards) {
      const caps = await s.capabilities()
      if (caps !== null) return new Set(caps)
    }
    throw new SimNetworkError('no node is online')
  }

  /** What every member observed, merged over the shards; alerts seen in several shards become one record. */
  async collect(): Promise<ClusterCollection> {
    const parts = await Promise.all(this.shards.map((s) => s.collect()))
    const members = new Map<number, MemberCollection>()
    const alerts = new Map<string, PublishedAlert>()
    for (const part of parts) {
      for (const m of part.members) members.set(m.index, m)
      for (const a of part.alerts) {
        const rec = alerts.get(a.id)
        if (rec === undefined) {
          alerts.set(a.id, { ...a, receivedBy: new Map(a.receivedBy) })
          continue
        }
        if (a.publisher >= 0) rec.publisher = a.publisher
        for (const [i, t] of a.receivedBy) rec.receivedBy.set(i, t)
      }
    }
    return {
      members,
      alerts: [...alerts.values()],
      quorum: parts.find((p) => p.quorum !== null)?.quorum ?? null,
    }
  }

  /** Stops every node and shard, then removes the run directory (unless keepData). */
  async destroy(): Promise<void> {
    if (this.#destroyed) return
    this.#destroyed = true
    for (const m of this.members) m.online = false
    const results = await Promise.allSettled(this.shards.map((s) => s.destroy()))
    if (!this.init.keepData) await rm(this.#runDir, { recursive: true, force: true })
    const failed = results.find((r) => r.status === 'rejected')
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason
  }
}
