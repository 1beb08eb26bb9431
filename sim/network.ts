import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, open, rm, writeFile, type FileHandle } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ConnectionGater } from '@libp2p/interface'
import { pino } from 'pino'
import { loadConfig, type ShieldwallConfig } from '../config/index.ts'
import { getPublicKey } from '../crypto/signing/ed25519.ts'
import { createIdentityFile } from '../crypto/identity/node-identity.ts'
import { peerIdFromEd25519PublicKey } from '../crypto/identity/peer-id.ts'
import { silentLogger, type Logger } from '../node/logging/logger.ts'
import { ShieldwallNode } from '../node/shieldwall-node.ts'
import { stripUndefined } from '../node/service-init.ts'

export type Transport = 'memory' | 'tcp'
export type Role = 'honest' | 'hostile'

export interface SimNetworkInit {
  nodes: number
  seed: number
  transport: Transport
  /** how many of the first nodes act as the well-known bootstrap peers everyone else is configured with */
  bootstrapPeers: number
  /** delay between two node starts, so joins overlap as on a real network rather than all at one instant */
  staggerMs: number
  roles: Role[]
  logLevel: 'silent' | 'error' | 'warn' | 'info' | 'debug'
  /** node logs go here when logLevel is not silent (one JSON line per record, each with its `node` prefix) */
  logFile?: string
  /** merged into every node's `detect` config */
  detect: Record<string, unknown>
  /** merged into every node's `alerts` config */
  alerts: Record<string, unknown>
  /** keep the run directory (data dirs, logs) after stop, for inspection */
  keepData: boolean
  /**
   * `community`: every honest member's operator lists the other honest members in `reputation.trustedPeers`
   * (as a real community would); hostile members are never listed. `organic`: nobody is pinned, trust is only
   * earned by corroboration.
   */
  trust: TrustModel
  /** per member: extra `blocklist.allowlist` entries (an operator's own users) */
  allowlists?: Map<number, string[]>
  /** merged into every node's `blocklist` config */
  blocklist: Record<string, unknown>
  /**
   * run federated learning (off unless a scenario needs it: it trains a model on every node); an object is the
   * nodes' `learning` config section (learning on)
   */
  learning: boolean | Record<string, unknown>
  /**
   * the members this instance runs (default: all). The others run in other threads of the simulator: their
   * metadata is known here (for bootstrap lists and partitions), their nodes are not.
   */
  local?: number[]
  /** an existing run directory from `prepareRunDir` (another thread owns it and removes it) */
  runDir?: string
  /** names the memory-transport listeners; threads of one run share it */
  runId?: string
}

export type TrustModel = 'community' | 'organic'

export interface OnlineSpan {
  up: number
  down?: number
}

/** One simulated operator: its daemon (when running), its guarded service's logs, and its history. */
export interface SimMember {
  index: number
  /** log prefix, e.g. `node-07` */
  name: string
  role: Role
  peerId: string
  dataDir: string
  authLog: string
  accessLog: string
  listen: string
  node?: ShieldwallNode
  spans: OnlineSpan[]
  /** which side of a partition the member is on; undefined when the network is whole */
  group?: number
  /** chosen to leave and rejoin by a churn event */
  churn?: boolean
}

export type MemberListener = (member: SimMember, node: ShieldwallNode) => void

export class SimNetworkError extends Error {
  override name = 'SimNetworkError'
}

export const SIM_NETWORK_DEFAULTS: Omit<SimNetworkInit, 'roles'> = {
  nodes: 20,
  seed: 1,
  transport: 'memory',
  bootstrapPeers: 3,
  staggerMs: 40,
  logLevel: 'silent',
  detect: {},
  alerts: {},
  keepData: false,
  trust: 'community',
  blocklist: {},
  learning: false,
}

export function nodeName(index: number, total: number): string {
  return `node-${String(index).padStart(Math.max(2, String(total - 1).length), '0')}`
}

/** A node identity derived from the seed, so peer ids (and with them DHT distances) repeat across runs. */
export function seededSecretKey(seed: number, index: number): Uint8Array {
  return createHash('sha256').update(`shieldwall-sim/${seed}/${index}`).digest()
}

/**
 * N real `ShieldwallNode`s in one process, each with its own identity, data dir and logs, joined the way real
 * members join: configured with a few bootstrap peers and finding the rest through the DHT and gossipsub.
 */
export class SimNetwork {
  readonly init: SimNetworkInit
  readonly members: SimMember[] = []
  readonly #started = new Set<MemberListener>()
  readonly #stopping = new Set<MemberListener>()
  readonly #logs = new Map<string, FileHandle>()
  readonly #local: Set<number>
  /** addresses of members that run in other threads, as they reported them when they started */
  readonly #remoteAddresses = new Map<number, string[]>()
  #runDir = ''
  #ownsRunDir = false
  readonly #runId: string
  #logger?: Logger
  #logDest?: ReturnType<typeof pino.destination>
  #partition?: number[][]
  #byPeerId = new Map<string, SimMember>()
  #destroyed = false

  constructor(init: Partial<SimNetworkInit> & { roles?: Role[] }) {
    const merged = { ...SIM_NETWORK_DEFAULTS, ...stripUndefined(init) }
    this.init = { ...merged, roles: init.roles ?? Array.from({ length: merged.nodes }, () => 'honest') }
    if (this.init.roles.length !== this.init.nodes)
      throw new SimNetworkError(`roles has ${this.init.roles.length} entries for ${this.init.nodes} nodes`)
    if (this.init.nodes < 2) throw new SimNetworkError('a network needs at least 2 nodes')
    this.#local = new Set(this.init.local ?? this.init.roles.map((_, i) => i))
    this.#runId = this.init.runId ?? randomBytes(4).toString('hex')
  }

  /** whether some members run in other threads: then members listen on TCP loopback too, to be reached there */
  get crossThread(): boolean {
    return this.#local.size < this.init.nodes
  }

  isLocal(m: SimMember): boolean {
    return this.#local.has(m.index)
  }

  /** tells this instance where a member of another thread listens (its bootstrap peers, mostly) */
  knowAddresses(index: number, addresses: string[]): void {
    this.#remoteAddresses.set(index, addresses)
  }

  get runDir(): string {
    return this.#runDir
  }

  onStarted(listener: MemberListener): () => void {
    this.#started.add(listener)
    return () => this.#started.delete(listener)
  }

  /** called just before a member's node stops (churn or shutdown), while it can still be read */
  onStopping(listener: MemberListener): () => void {
    this.#stopping.add(listener)
    return () => this.#stopping.delete(listener)
  }

  online(): SimMember[] {
    return this.members.filter((m) => m.node !== undefined)
  }

  async create(): Promise<void> {
    if (this.init.runDir !== undefined) this.#runDir = this.init.runDir
    else {
      this.#runDir = await prepareRunDir(this.init)
      this.#ownsRunDir = true
    }
    if (this.init.logLevel !== 'silent') {
      // threads of one run append to one file; each record is one line and carries its `node` prefix
      this.#logDest = pino.destination({
        dest: this.init.logFile ?? join(this.#runDir, 'nodes.log'),
        sync: false,
        append: true,
      })
      this.#logger = pino({ level: this.init.logLevel }, this.#logDest)
    }
    for (const info of memberLayout(this.init, this.#runDir)) {
      const listen =
        this.init.transport === 'memory'
          ? `/memory/shieldwall-sim-${this.#runId}-${info.index}`
          : '/ip4/127.0.0.1/tcp/0'
      const m: SimMember = { ...info, listen, spans: [] }
      this.members.push(m)
      this.#byPeerId.set(m.peerId, m)
    }
  }

  /** Starts every member in order, `staggerMs` apart; bootstrap peers first so the others have someone to call. */
  async startAll(onProgress?: (started: number) => void): Promise<void> {
    for (const m of this.members.filter((x) => this.isLocal(x))) {
      await this.start(m)
      onProgress?.(m.index + 1)
      if (this.init.staggerMs > 0) await sleep(this.init.staggerMs)
    }
  }

  #bootstrapList(m: SimMember): string[] {
    const list: string[] = []
    for (const b of this.members.slice(0, this.init.bootstrapPeers)) {
      if (b.index === m.index) continue
      if (!this.isLocal(b)) list.push(...tcpAddress(this.#remoteAddresses.get(b.index) ?? []))
      else if (this.init.transport === 'memory') list.push(`${b.listen}/p2p/${b.peerId}`)
      else if (b.node !== undefined) list.push(...tcpAddress(b.node.addresses()))
    }
    return list
  }

  #config(m: SimMember): ShieldwallConfig {
    const trustedPeers =
      this.init.trust === 'community' && m.role === 'honest'
        ? this.members.filter((o) => o.role === 'honest' && o.index !== m.index).map((o) => o.peerId)
        : []
    return loadConfig({
      env: {},
      cli: {
        nodeName: m.name,
        dataDir: m.dataDir,
        log: { level: this.init.logLevel },
        api: { enabled: false },
        p2p: {
          // across threads members meet over TCP loopback; within one, over memory when that is the transport
          listen:
            this.crossThread && this.init.transport === 'memory'
              ? [m.listen, '/ip4/127.0.0.1/tcp/0']
              : [m.listen],
          bootstrap: this.#bootstrapList(m),
          dht: { enabled: true },
        },
        sources: [
          { path: m.authLog, format: 'sshd', startAt: 'beginning' },
          { path: m.accessLog, format: 'nginx', startAt: 'beginning' },
        ],
        detect: this.init.detect,
        alerts: this.init.alerts,
        reputation: { trustedPeers },
        learning:
          typeof this.init.learning === 'boolean'
            ? { enabled: this.init.learning }
            : { ...this.init.learning, enabled: true },
        blocklist: { ...this.init.blocklist, allowlist: this.init.allowlists?.get(m.index) ?? [] },
      },
    })
  }

  async start(m: SimMember): Promise<ShieldwallNode> {
    if (m.node !== undefined) return m.node
    if (!this.isLocal(m)) throw new SimNetworkError(`${m.name} runs in another thread`)
    const logger = this.#logger?.child({ node: m.name }) ?? silentLogger()
    const node = new ShieldwallNode(this.#config(m), {
      logger,
      connectionGater: this.#gater(m),
      libp2pMetrics: false,
      // TCP members ping their connections as the daemon does; members that differ only by thread do not: within one
      // process a connection cannot die silently, and ~50 pings a second per thread would cost a quarter of its loop
      connectionMonitor: this.init.transport !== 'memory',
    })
    await node.start()
    m.node = node
    m.spans.push({ up: Date.now() })
    for (const l of this.#started) l(m, node)
    return node
  }

  async stop(m: SimMember): Promise<void> {
    const node = m.node
    if (node === undefined) return
    for (const l of this.#stopping) l(m, node)
    m.node = undefined
    const span = m.spans.at(-1)
    if (span !== undefined) span.down = Date.now()
    await node.stop()
  }

  /** Appends lines to a member's guarded-service log, as sshd or nginx would. */
  async append(m: SimMember, file: 'auth' | 'access', lines: string[]): Promise<void> {
    if (lines.length === 0) return
    const path = file === 'auth' ? m.authLog : m.accessLog
    let handle = this.#logs.get(path)
    if (handle === undefined) {
      handle = await open(path, 'a')
      this.#logs.set(path, handle)
    }
    await handle.write(lines.join('\n') + '\n')
  }

  /**
   * Splits the network: members only talk within their group. New dials across are refused by each node's
   * connection gater and existing cross connections are closed.
   */
  async partition(groups: number[][]): Promise<void> {
    this.#partition = groups
    for (const [g, indices] of groups.entries())
      for (const i of indices) (this.members[i] as SimMember).group = g
    await Promise.all(
      this.online().map(async (m) => {
        const host = (m.node as ShieldwallNode).host
        for (const conn of host.getConnections()) {
          if (this.#denied(m, conn.remotePeer.toString()))
            await conn.close().catch(() => conn.abort(new Error('partition')))
        }
      }),
    )
  }

  /** Lifts the partition; every member redials its bootstrap peers as a restarted node would. */
  async heal(): Promise<void> {
    this.#partition = undefined
    for (const m of this.members) delete m.group
    await Promise.all(this.online().map((m) => this.redialBootstrap(m)))
  }

  async redialBootstrap(m: SimMember): Promise<void> {
    await m.node?.bootstrapRedial.dialAll()
  }

  /** Refuses connections to and from the other side of a partition, on every dial and upgrade. */
  #gater(m: SimMember): ConnectionGater {
    const denied = async (peer: { toString(): string }) => this.#denied(m, peer.toString())
    // A member of another thread is known by its memory address too (identify, the DHT), but memory listeners
    // live in one thread only: dial it over TCP, without a failed memory attempt first.
    const prefix = `/memory/shieldwall-sim-${this.#runId}-`
    const foreignMemory = async (addr: { toString(): string }) => {
      const text = addr.toString()
      if (!text.startsWith('/memory/')) return false
      const index = Number.parseInt(text.slice(prefix.length), 10)
      return !text.startsWith(prefix) || !this.#local.has(index)
    }
    return {
      ...(this.crossThread ? { denyDialMultiaddr: foreignMemory } : {}),
      denyDialPeer: denied,
      denyInboundEncryptedConnection: denied,
      denyOutboundEncryptedConnection: denied,
      denyInboundUpgradedConnection: denied,
      denyOutboundUpgradedConnection: denied,
    }
  }

  #denied(m: SimMember, remotePeerId: string): boolean {
    if (this.#partition === undefined || m.group === undefined) return false
    const other = this.#byPeerId.get(remotePeerId)
    return other?.group !== undefined && other.group !== m.group
  }

  /** Stops every node, closes the logs and removes the run directory (unless keepData). */
  async destroy(): Promise<void> {
    if (this.#destroyed) return
    this.#destroyed = true
    await Promise.all(this.online().map((m) => this.stop(m)))
    for (const h of this.#logs.values()) await h.close().catch(() => undefined)
    this.#logs.clear()
    if (this.#logDest !== undefined) {
      const dest = this.#logDest
      await new Promise<void>((resolve) => {
        dest.once('close', () => resolve())
        dest.end()
      })
    }
    if (this.#ownsRunDir && !this.init.keepData) await rm(this.#runDir, { recursive: true, force: true })
  }
}

/** What every thread of a run knows about a member without running it (all derived from the seed and dir). */
export type MemberInfo = Pick<
  SimMember,
  'index' | 'name' | 'role' | 'peerId' | 'dataDir' | 'authLog' | 'accessLog'
>

export function memberLayout(
  init: Pick<SimNetworkInit, 'nodes' | 'seed' | 'roles'>,
  runDir: string,
): MemberInfo[] {
  return Array.from({ length: init.nodes }, (_, index) => {
    const name = nodeName(index, init.nodes)
    const dataDir = join(runDir, name)
    return {
      index,
      name,
      role: init.roles[index] as Role,
      peerId: peerIdFromEd25519PublicKey(getPublicKey(seededSecretKey(init.seed, index))).toString(),
      dataDir,
      authLog: join(dataDir, 'auth.log'),
      accessLog: join(dataDir, 'access.log'),
    }
  })
}

/** A fresh run directory: per member its data dir with its seeded identity and its (empty) service logs. */
export async function prepareRunDir(init: Pick<SimNetworkInit, 'nodes' | 'seed' | 'roles'>): Promise<string> {
  const runDir = await mkdtemp(join(tmpdir(), 'shieldwall-sim-'))
  try {
    await writeMemberFiles(init, runDir)
  } catch (err) {
    await rm(runDir, { recursive: true, force: true })
    throw err
  }
  return runDir
}

async function writeMemberFiles(
  init: Pick<SimNetworkInit, 'nodes' | 'seed' | 'roles'>,
  runDir: string,
): Promise<void> {
  for (const m of memberLayout(init, runDir)) {
    await createIdentityFile(m.dataDir, seededSecretKey(init.seed, m.index))
    await writeFile(m.authLog, '')
    await writeFile(m.accessLog, '')
  }
}

function tcpAddress(addresses: string[]): string[] {
  return addresses.filter((a) => a.includes('/tcp/')).slice(0, 1)
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}
