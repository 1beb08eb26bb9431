import { availableParallelism } from 'node:os'
import { AddressPool } from './addresses.ts'
import { BlockRecorder } from './adapters/block-watcher.ts'
import type { Capability } from './adapters/capabilities.ts'
import { hostileActions, type HostileAction } from './hostile/hostile-actions.ts'
import { runLearningRounds, type LearningOutcome } from './learning-hook.ts'
import { learningNodeConfig } from './learning/learning-spec.ts'
import {
  measure,
  onlineAtEnd,
  round3,
  type AttackerTruth,
  type MemberObservation,
} from './metrics/measurements.ts'
import { LoopLoad, ResourceMeter } from './metrics/resource-meter.ts'
import { nodeName, SimNetworkError, sleep, type Role, type Transport, type TrustModel } from './network.ts'
import { sample, shuffled, stream } from './random.ts'
import { evaluateAssertions, type NodeReport, type SimReport, type TrustSample } from './report/report.ts'
import type { NetworkEventSpec, ScenarioSpec } from './scenarios/scenario-spec.ts'
import type { MemberCollection } from './shards/shard.ts'
import { SimCluster, type ClusterCollection, type ClusterMember, type LogLine } from './shards/sim-cluster.ts'
import { generateTraffic } from './traffic/generate.ts'
import type { ScheduledLine, TrafficContext } from './traffic/schedule.ts'
import { alertPathWarmUp, organicWarmUp, type AlertWarmUpOutcome, type WarmUpOutcome } from './warm-up.ts'

export interface RunOptions {
  scenario: ScenarioSpec
  nodes?: number
  seed?: number
  durationSeconds?: number
  transport?: Transport
  /**
   * threads that run nodes (default `defaultWorkers`): with more than one, each is a worker thread and members
   * of different threads meet over TCP loopback. Learning scenarios run in one.
   */
  workers?: number
  hostileFraction?: number
  logLevel?: 'silent' | 'error' | 'warn' | 'info' | 'debug'
  keepData?: boolean
  /** how honest members come to trust each other (see SimNetworkInit.trust); default the scenario's, else community */
  trust?: TrustModel
  /** after the traffic ends, wait up to this long for blocks to stop changing */
  settleSeconds?: number
  onProgress?: (p: Progress) => void
}

export interface Progress {
  phase: 'starting' | 'warming up' | 'earning trust' | 'running' | 'settling' | 'stopping'
  done: number
  total: number
  blocks: number
  alerts: number
}

const TICK_MS = 100
const SAMPLE_MS = 1000
const TRUST_SAMPLE_MS = 2000
/** honest members whose view of trust is sampled (all pairs would be quadratic at 100 nodes) */
const TRUST_OBSERVERS = 8
/**
 * Members one thread runs before a run spreads over more. One event loop on this project's 2-core reference
 * machine keeps alerts under a second up to about 30 members; at 40 it is busy 46-73% of the traffic and the
 * p99 grows to seconds (docs/simulator.md).
 */
export const MEMBERS_PER_WORKER = 30

/** the organic warm-up's step across threads (300 ms on one thread, see sim/warm-up.ts) */
const CROSS_THREAD_WARM_UP_STEP_MS = 600

/** one thread up to MEMBERS_PER_WORKER members, then one per started block of them, at most one per core */
export function defaultWorkers(nodes: number, cores = availableParallelism()): number {
  return Math.max(1, Math.min(cores, Math.ceil(nodes / MEMBERS_PER_WORKER)))
}

/** Runs one scenario end to end and returns its report; the network is always torn down, even on error. */
export async function runScenario(opts: RunOptions): Promise<SimReport> {
  const spec = opts.scenario
  const nodes = opts.nodes ?? spec.defaults.nodes
  const seed = opts.seed ?? 1
  const durationMs = Math.round((opts.durationSeconds ?? spec.defaults.durationSeconds) * 1000)
  const bootstrapPeers = Math.min(spec.defaults.bootstrapPeers ?? 3, nodes - 1)
  const hostileFraction = opts.hostileFraction ?? spec.defaults.hostileFraction ?? 0
  const progress = opts.onProgress ?? (() => {})
  const resources = new ResourceMeter()
  // federated rounds drive the nodes' learning services directly, so those scenarios keep every node here
  if (spec.learning !== undefined && (opts.workers ?? 1) > 1)
    throw new SimNetworkError(`${spec.name} runs its nodes in one thread (--workers 1)`)
  const workers = spec.learning !== undefined ? 1 : (opts.workers ?? defaultWorkers(nodes))

  // Roles: bootstrap peers are run by the project and honest; the hostile crowd is drawn from the rest.
  const candidates = Array.from({ length: nodes - bootstrapPeers }, (_, i) => i + bootstrapPeers)
  const hostileSet = new Set(
    sample(
      stream(seed, 'roles'),
      candidates,
      Math.min(candidates.length, Math.round(hostileFraction * nodes)),
    ),
  )
  const roles: Role[] = Array.from({ length: nodes }, (_, i) => (hostileSet.has(i) ? 'hostile' : 'honest'))
  const groups = partitionGroups(spec.events, nodes, bootstrapPeers, seed)
  const trustModel = opts.trust ?? spec.defaults.trust ?? 'community'
  const honest = roles.flatMap((r, i) => (r === 'honest' ? [i] : []))
  const churnPlan = planChurn(spec.events ?? [], honest, bootstrapPeers, seed)
  const durationForPlan = durationMs

  // Ground truth and schedules, all from the seed, before any node starts: operators configure their own
  // users' addresses (allowlist) before they run the daemon.
  const attackerPool = new AddressPool('attacker', stream(seed, 'attacker-ips'))
  const benignPool = new AddressPool('benign', stream(seed, 'benign-ips'))
  const ctx: TrafficContext = {
    rand: stream(seed, 'traffic'),
    durationMs,
    honest,
    ...(groups !== undefined ? { groupOf: (i: number) => groups.findIndex((g) => g.includes(i)) } : {}),
    upDuring: (member, from, to) => churnPlan.upDuring(member, from / durationForPlan, to / durationForPlan),
    attackers: attackerPool,
    benign: benignPool,
    truth: { attackers: [], benign: new Set(), load: new Set(), staff: new Map() },
    hostOf: (i) => nodeName(i, nodes),
  }
  const lines = generateTraffic(spec.traffic, ctx)
  const hostileCtx = {
    rand: stream(seed, 'hostile'),
    durationMs,
    hostile: [...hostileSet].sort((a, b) => a - b),
    // the Sybil crowd goes after the people who run and use honest members' services: their staff
    benign: [...ctx.truth.staff.values()].flat(),
    victims: new Set<string>(),
  }
  const actions = hostileActions(spec.hostile ?? [], hostileCtx)

  const events: { t: number; label: string }[] = []
  let t0 = 0
  // open() removes what it made when it fails; from here on the network is always torn down
  const net = await SimCluster.open(
    {
      nodes,
      seed,
      roles,
      bootstrapPeers,
      transport: opts.transport ?? 'memory',
      logLevel: opts.logLevel ?? 'silent',
      keepData: opts.keepData ?? false,
      trust: trustModel,
      allowlists: ctx.truth.staff,
      learning: spec.learning === undefined ? false : learningNodeConfig(spec.learning, spec.learning.rule),
      // summaries restate blocks to the side that missed the alerts when a partition heals; the default minute
      // is long for a short run (and every summary costs each receiver a signature check, so only where needed)
      blocklist: groups !== undefined ? { summaryIntervalSeconds: 5 } : {},
    },
    workers,
  )
  try {
    const startT = Date.now()
    await net.startAll((n) => progress({ phase: 'starting', done: n, total: nodes, blocks: 0, alerts: 0 }))
    await warmUp(net, (done) => progress({ phase: 'warming up', done, total: nodes, blocks: 0, alerts: 0 }))
    const startupMs = Date.now() - startT
    let warm: WarmUpOutcome | undefined
    let alertWarm: AlertWarmUpOutcome | undefined
    if (trustModel === 'organic') {
      warm = await organicWarmUp(net, {
        seed,
        attackers: attackerPool,
        minTrustedReporters: 2,
        // each step must outlast an alert's trip under the warm-up's own burst, which between threads (TCP, two
        // loops) takes longer than within one
        ...(net.shards.length > 1 ? { stepMs: CROSS_THREAD_WARM_UP_STEP_MS } : {}),
        onProgress: (done, total) => progress({ phase: 'earning trust', done, total, blocks: 0, alerts: 0 }),
      })
      // what the warm-up blocked is not part of the measured run
      await net.resetObservations()
    } else if (spec.learning === undefined) {
      alertWarm = await alertPathWarmUp(net, { seed, attackers: attackerPool, reporters: 2 })
      await quiescence(net)
      await net.resetObservations()
    }
    const netEvents = scheduleEvents(churnPlan, net, groups, durationMs, (label) =>
      events.push({ t: Date.now() - t0, label }),
    )
    t0 = Date.now()
    resources.startTraffic((await net.sample()).threads)
    let li = 0
    let ai = 0
    let ei = 0
    let nextSample = 0
    let nextTrust = 0
    let current = { blocks: 0, alerts: 0 }
    const background: Promise<unknown>[] = []
    // a churn or partition event that fails (a node that will not start, a worker that died) fails the run, after
    // the loop, so the network is still torn down in order
    let eventError: unknown
    const trust: TrustSample[] = []
    while (true) {
      const elapsed = Date.now() - t0
      if (elapsed >= durationMs) break
      const due: LogLine[] = []
      const now = Date.now()
      for (; li < lines.length && (lines[li] as ScheduledLine).at <= elapsed; li++) {
        const l = lines[li] as ScheduledLine
        due.push({ member: l.member, file: l.file, text: l.render(now) })
      }
      const writes = net.append(due)
      for (; ai < actions.length && (actions[ai] as HostileAction).at <= elapsed; ai++) {
        const a = actions[ai] as HostileAction
        const m = net.members[a.member]
        if (m !== undefined) background.push(net.falseReport(m, a.ip).catch(() => undefined))
      }
      for (; ei < netEvents.length && (netEvents[ei] as ScheduledEvent).at <= elapsed; ei++) {
        background.push(
          (netEvents[ei] as ScheduledEvent).run().catch((err: unknown) => {
            eventError ??= err
          }),
        )
      }
      await writes
      if (elapsed >= nextSample) {
        nextSample += SAMPLE_MS
        const s = await net.sample()
        resources.sample(s.threads)
        current = { blocks: s.blocks, alerts: s.alerts }
        progress({ phase: 'running', done: elapsed, total: durationMs, ...current })
      }
      if (elapsed >= nextTrust) {
        nextTrust += TRUST_SAMPLE_MS
        trust.push(await sampleTrust(net, elapsed))
      }
      await sleep(TICK_MS)
    }
    resources.endTraffic((await net.sample()).threads)
    await Promise.all(background)
    if (eventError !== undefined) throw eventError

    // Settle: let the last alerts propagate, until blocks stop changing for two seconds (bounded).
    const settleMs = (opts.settleSeconds ?? 10) * 1000
    const settleStart = Date.now()
    let last = (await net.sample()).blocks
    let stableSince = Date.now()
    while (Date.now() - settleStart < settleMs && Date.now() - stableSince < 2000) {
      await sleep(250)
      const s = await net.sample()
      current = { blocks: s.blocks, alerts: s.alerts }
      if (current.blocks !== last) {
        last = current.blocks
        stableSince = Date.now()
      }
      progress({ phase: 'settling', done: Date.now() - settleStart, total: settleMs, ...current })
    }
    trust.push(await sampleTrust(net, Date.now() - t0))

    let learning: LearningOutcome | undefined
    if (spec.learning !== undefined && net.localNetwork !== undefined)
      learning = await runLearningRounds(net.localNetwork, spec.learning)

    progress({ phase: 'stopping', done: 0, total: 1, ...current })
    const caps = await net.capabilities()
    if ((learning?.rounds ?? []).length > 0) caps.add('learning')
    const collected = await net.collect()
    const finalThreads = (await net.sample()).threads
    const report = buildReport({
      spec,
      cluster: net,
      collected,
      truth: ctx.truth,
      victims: hostileCtx.victims,
      t0,
      durationMs,
      seed,
      hostileCount: hostileSet.size,
      trust,
      trustModel,
      warm,
      alertWarm,
      events,
      startupMs,
      caps,
      groups,
      learning,
    })
    await net.destroy()
    report.capabilities = [...caps]
    report.resources = resources.finish(finalThreads)
    report.assertions = evaluateAssertions(spec.assertions, report, {
      nodes,
      honestNodes: honest.length,
      capabilities: caps,
    })
    report.passed = report.assertions.every((a) => a.status !== 'fail')
    return report
  } finally {
    await net.destroy().catch(() => undefined)
  }
}

/** Until every online member sees at least one peer subscribed to alerts (bounded), then two heartbeats. */
async function warmUp(cluster: SimCluster, onProgress: (ready: number) => void): Promise<void> {
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    const ready = await cluster.subscribersReady()
    onProgress(ready)
    if (ready === cluster.online().length) break
    await sleep(200)
  }
  await sleep(2000)
  await quiescence(cluster)
}

/** The busiest node thread's loop share below which the network counts as formed (handshakes and DHT walks done). */
export const QUIET_LOOP_UTILISATION = 0.5
const QUIET_SAMPLES = 3
const QUIET_SAMPLE_MS = 500
const QUIET_MAX_MS = 60_000

/**
 * Until every node thread's event loop is mostly idle for a while (bounded). Real members join over minutes on
 * their own machines; here they all start within seconds on a few cores, and until their connection
 * handshakes, DHT walks and identify exchanges are done, an alert waits behind them. Measuring from then would
 * time the simulator's start-up, not the network.
 */
async function quiescence(cluster: SimCluster): Promise<void> {
  const deadline = Date.now() + QUIET_MAX_MS
  const load = new LoopLoad()
  load.next((await cluster.sample()).threads)
  let quiet = 0
  while (Date.now() < deadline && quiet < QUIET_SAMPLES) {
    await sleep(QUIET_SAMPLE_MS)
    const busy = load.next((await cluster.sample()).threads) ?? 0
    quiet = busy < QUIET_LOOP_UTILISATION ? quiet + 1 : 0
  }
}

async function sampleTrust(cluster: SimCluster, t: number): Promise<TrustSample> {
  const observers = cluster
    .online()
    .filter((m) => m.role === 'honest')
    .slice(0, TRUST_OBSERVERS)
    .map((m) => m.index)
  const sums = await cluster.trustSums(observers)
  const mean = ([sum, n]: [number, number]) => (n > 0 ? round3(sum / n) : null)
  return {
    t,
    honest: mean(sums.trust.honest),
    hostile: mean(sums.trust.hostile),
    honestGossip: mean(sums.gossip.honest),
    hostileGossip: mean(sums.gossip.hostile),
  }
}

interface ScheduledEvent {
  at: number
  run: () => Promise<void>
}

/** Two groups; bootstrap peers alternate so each side keeps someone to bootstrap from. */
function partitionGroups(
  specs: NetworkEventSpec[] | undefined,
  nodes: number,
  bootstrapPeers: number,
  seed: number,
): number[][] | undefined {
  if (!(specs ?? []).some((e) => e.kind === 'partition')) return undefined
  const groups: number[][] = [[], []]
  for (let i = 0; i < bootstrapPeers; i++) (groups[i % 2] as number[]).push(i)
  const rest = shuffled(
    stream(seed, 'partition'),
    Array.from({ length: nodes - bootstrapPeers }, (_, i) => i + bootstrapPeers),
  )
  rest.forEach((i, k) => (groups[(k + bootstrapPeers) % 2] as number[]).push(i))
  return groups.map((g) => g.sort((a, b) => a - b))
}

/** Who leaves and when (fractions of the duration), decided before traffic so attacks can target who is up. */
export interface ChurnPlan {
  churns: { members: number[]; at: number; back: number }[]
  partition?: { at: number; healAt: number }
  /** whether `member` is up for the whole [from, to] (fractions of the duration) */
  upDuring(member: number, from: number, to: number): boolean
}

function planChurn(
  specs: NetworkEventSpec[],
  honest: number[],
  bootstrapPeers: number,
  seed: number,
): ChurnPlan {
  const rand = stream(seed, 'events')
  const churns: ChurnPlan['churns'] = []
  let partition: ChurnPlan['partition']
  for (const e of specs) {
    if (e.kind === 'churn') {
      const pool = honest.filter((i) => i >= bootstrapPeers)
      const members = sample(rand, pool, Math.max(1, Math.round(pool.length * e.share)))
      churns.push({ members, at: e.at, back: e.at + e.downFraction })
    } else {
      partition = { at: e.at, healAt: e.healAt }
    }
  }
  return {
    churns,
    ...(partition !== undefined ? { partition } : {}),
    // rejoining takes a moment (start, dial, catch up): a margin on both sides
    upDuring: (member, from, to) =>
      churns.every((c) => !c.members.includes(member) || to < c.at - 0.02 || from > c.back + 0.05),
  }
}

function scheduleEvents(
  plan: ChurnPlan,
  cluster: SimCluster,
  groups: number[][] | undefined,
  durationMs: number,
  mark: (label: string) => void,
): ScheduledEvent[] {
  const out: ScheduledEvent[] = []
  for (const c of plan.churns) {
    const leaving = c.members.map((i) => cluster.members[i] as ClusterMember)
    for (const m of leaving) m.churn = true
    out.push({
      at: c.at * durationMs,
      run: async () => {
        mark(`${leaving.length} nodes leave`)
        await Promise.all(leaving.map((m) => cluster.stop(m)))
      },
    })
    out.push({
      at: c.back * durationMs,
      run: async () => {
        // restarts overlap as real ones would; each node redials its bootstrap peers on its own
        await Promise.all(leaving.map((m) => cluster.start(m)))
        mark(`${leaving.length} nodes rejoin`)
      },
    })
  }
  if (plan.partition !== undefined && groups !== undefined) {
    out.push({
      at: plan.partition.at * durationMs,
      run: async () => {
        await cluster.partition(groups)
        mark('partition')
      },
    })
    out.push({
      at: plan.partition.healAt * durationMs,
      run: async () => {
        await cluster.heal()
        mark('heal')
      },
    })
  }
  return out.sort((a, b) => a.at - b.at)
}

interface BuildInput {
  spec: ScenarioSpec
  cluster: SimCluster
  collected: ClusterCollection
  truth: TrafficContext['truth']
  victims: Set<string>
  t0: number
  durationMs: number
  seed: number
  hostileCount: number
  trust: TrustSample[]
  trustModel: TrustModel
  warm: WarmUpOutcome | undefined
  alertWarm: AlertWarmUpOutcome | undefined
  events: { t: number; label: string }[]
  startupMs: number
  caps: Set<Capability>
  groups: number[][] | undefined
  learning: LearningOutcome | undefined
}

type RecorderOf = (member: number) => BlockRecorder

function buildReport(b: BuildInput): SimReport {
  const { cluster } = b
  const seen = (i: number) => b.collected.members.get(i) as MemberCollection
  const recorders = cluster.members.map((m) => BlockRecorder.fromSnapshot(seen(m.index).blocks))
  const rec: RecorderOf = (i) => recorders[i] as BlockRecorder
  const connections = cluster.members.map((m) => seen(m.index).connections)
  const observations: MemberObservation[] = cluster.members.map((m) => ({
    index: m.index,
    role: m.role,
    spans: m.spans,
    blockedAt: (ip) => rec(m.index).blockedAt(ip),
    localAt: seen(m.index).localAt,
    sightedAt: seen(m.index).sightedAt,
  }))
  const benign = [...new Set([...b.truth.benign, ...b.victims])]
  const result = measure({
    members: observations,
    attackers: b.truth.attackers,
    benign,
    alerts: b.collected.alerts.filter((a) => a.publisher >= 0),
    quorum: b.collected.quorum ?? 2,
  })

  const perNode: NodeReport[] = cluster.members.map((m) => {
    const st = seen(m.index)
    return {
      name: m.name,
      role: m.role,
      peerId: m.peerId,
      online: st.online,
      connections: st.connections,
      messagesSent: st.gossip.messagesSent,
      bytesSent: st.gossip.bytesSent,
      rpcsSent: st.gossip.rpcsSent,
      messagesReceived: st.gossip.messagesReceived,
      bytesReceived: st.gossip.bytesReceived,
      duplicatesReceived: st.gossip.messagesReceived - st.gossip.uniqueReceived,
      blocks: rec(m.index).firstBlocked.size,
      communityBlocks: st.community.size,
      sightings: st.sightedAt.size,
      localDetections: st.localAt.size,
      alertsAccepted: st.alertCounts.accepted,
      alertsRejected: st.alertCounts.rejected,
      alertsIgnored: st.alertCounts.ignored,
      alertsHeld: st.alertCounts.held,
    }
  })
  const bytes = perNode.map((n) => n.bytesSent).sort((x, y) => x - y)
  const msgs = perNode.map((n) => n.messagesSent)
  const received = perNode.reduce((s, n) => s + n.messagesReceived, 0)
  const dups = perNode.reduce((s, n) => s + n.duplicatesReceived, 0)
  const conns = connections.filter((_, i) => seen(i).online)
  const finalTrust = b.trust.at(-1)
  const firstTrust = b.trust[0]

  const report: SimReport = {
    scenario: b.spec.name,
    description: b.spec.description,
    nodes: cluster.members.length,
    hostileNodes: b.hostileCount,
    seed: b.seed,
    transport: cluster.init.transport,
    workers: cluster.shards.length,
    durationSeconds: b.durationMs / 1000,
    startedAt: new Date(b.t0).toISOString(),
    sources: {
      blocks: 'node.blocklist entries of origin local or community',
      trust: 'node.reputation.trust (and the gossipsub peer score)',
    },
    capabilities: [...b.caps],
    propagation: result.propagation,
    delivery: result.delivery,
    deliveryLatency: result.deliveryLatency,
    duplicateRatio: received === 0 ? null : round3(dups / received),
    falseBlocks: result.falseBlocks,
    falseBlockPairs: result.falseBlockPairs,
    missedBlocks: result.missedBlocks,
    missedDetectedBlocks: result.missedDetectedBlocks,
    communityOnlyBlocks: result.communityOnlyBlocks,
    belowQuorum: result.belowQuorum,
    undetectedAttackers: result.undetectedAttackers,
    attackers: b.truth.attackers.length,
    benignAddresses: benign.length,
    bytesPerNode: {
      mean: Math.round(bytes.reduce((s, x) => s + x, 0) / Math.max(1, bytes.length)),
      p50: bytes[Math.floor(bytes.length / 2)] ?? 0,
      max: bytes.at(-1) ?? 0,
    },
    messagesPerNode: {
      mean: Math.round(msgs.reduce((s, x) => s + x, 0) / Math.max(1, msgs.length)),
      max: Math.max(0, ...msgs),
    },
    network: {
      meanConnections: Math.round((conns.reduce((s, x) => s + x, 0) / Math.max(1, conns.length)) * 10) / 10,
      minConnections: Math.min(...conns),
      maxConnections: Math.max(...conns),
      startupMs: b.startupMs,
      ...(b.alertWarm !== undefined ? { alertWarmUp: b.alertWarm } : {}),
    },
    resources: {
      cpuUserMs: 0,
      cpuSystemMs: 0,
      peakRssMb: 0,
      peakHeapMb: 0,
      wallMs: 0,
      trafficLoopLoad: null,
    },
    trust: {
      model: b.trustModel,
      source: 'reputation',
      ...(b.warm !== undefined ? { warmUp: b.warm } : {}),
      initial: { honestMean: firstTrust?.honest ?? null, hostileMean: firstTrust?.hostile ?? null },
      hostileDrop:
        firstTrust?.hostile != null && finalTrust?.hostile != null
          ? round3(firstTrust.hostile - finalTrust.hostile)
          : null,
      gossipScore: {
        honestMean: finalTrust?.honestGossip ?? null,
        hostileMean: finalTrust?.hostileGossip ?? null,
      },
      final: {
        honestMean: finalTrust?.honest ?? null,
        hostileMean: finalTrust?.hostile ?? null,
        gap:
          finalTrust?.honest != null && finalTrust.hostile != null
            ? round3(finalTrust.honest - finalTrust.hostile)
            : null,
      },
    },
    perNode,
    attackerOutcomes: result.attackers,
    timelines: {
      propagationCdfMs: result.nodeDelaysMs,
      blocks: cluster.members
        .filter((m) => m.role === 'honest')
        .map((m) => ({
          name: m.name,
          times: rec(m.index)
            .addTimes.map((t) => t - b.t0)
            .sort((x, y) => x - y),
        })),
      trust: b.trust,
      events: b.events,
    },
    assertions: [],
    passed: false,
  }
  const churned = cluster.members.filter((m) => m.churn === true)
  if (churned.length > 0)
    report.churn = churnOutcome(churned, rec, connections, b.truth.attackers, result.attackers)
  if (b.groups !== undefined) report.partition = partitionOutcome(b, rec, result.attackers)
  if (b.learning !== undefined) {
    report.rounds = b.learning.rounds
    report.learning = b.learning.summary
  }
  return report
}

function churnOutcome(
  churned: ClusterMember[],
  rec: RecorderOf,
  connections: number[],
  truth: AttackerTruth[],
  outcomes: SimReport['attackerOutcomes'],
): NonNullable<SimReport['churn']> {
  let expected = 0
  let covered = 0
  for (const m of churned) {
    const away = m.spans[0]?.down
    const back = m.spans[1]?.up
    if (away === undefined || back === undefined) continue
    for (const o of outcomes) {
      if (o.firstDetectionAt === null || o.firstDetectionAt < away || o.firstDetectionAt > back) continue
      expected++
      if (rec(m.index).blockedAt(o.ip) !== undefined) covered++
    }
  }
  const afterRejoin = new Set(truth.filter((a) => a.phase === 'after-rejoin').map((a) => a.ip))
  let afterRejoinMissed = 0
  for (const o of outcomes) {
    if (!afterRejoin.has(o.ip) || o.firstDetectionAt === null) continue
    if (churned.some((m) => onlineAtEnd(m.spans) && rec(m.index).blockedAt(o.ip) === undefined))
      afterRejoinMissed++
  }
  return {
    rejoined: churned.filter((m) => m.spans.length > 1).length,
    rejoinedIsolated: churned.filter((m) => (connections[m.index] ?? 0) === 0).length,
    lateJoinerCoverage: expected === 0 ? null : round3(covered / expected),
    afterRejoinMissed,
  }
}

function partitionOutcome(
  b: BuildInput,
  rec: RecorderOf,
  outcomes: SimReport['attackerOutcomes'],
): NonNullable<SimReport['partition']> {
  const groups = b.groups as number[][]
  const healAt = b.t0 + (b.events.find((e) => e.label === 'heal')?.t ?? b.durationMs)
  const phaseOf = new Map(b.truth.attackers.map((a) => [a.ip, a]))
  const honestIn = (g: number) => (groups[g] ?? []).filter((i) => b.cluster.members[i]?.role === 'honest')
  let leaks = 0
  let withinSideMissed = 0
  let afterHealMissed = 0
  let catchUpMissed = 0
  for (const o of outcomes) {
    const truth = phaseOf.get(o.ip)
    if (truth?.phase === 'during-partition') {
      if (o.firstDetectionAt === null) {
        withinSideMissed++
        continue
      }
      const side = honestIn(1)
      const other = honestIn(0)
      for (const i of other) {
        const t = rec(i).blockedAt(o.ip)
        if (t !== undefined && t < healAt) leaks++
      }
      if (side.some((i) => (rec(i).blockedAt(o.ip) ?? Infinity) >= healAt)) withinSideMissed++
      if (other.some((i) => rec(i).blockedAt(o.ip) === undefined)) catchUpMissed++
    } else if (truth?.phase === 'after-heal') {
      if (o.firstDetectionAt === null || o.blockedOn < o.eligible) afterHealMissed++
    }
  }
  return { groups, leaks, withinSideMissed, afterHealMissed, catchUpMissed }
}
