import { writeFile, rm, mkdir } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { serve, type ServerType } from '@hono/node-server'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { ShieldwallConfig } from '../config/index.ts'
import { loadOrCreateIdentity, type NodeIdentity } from '../crypto/identity/node-identity.ts'
import { peerIdFromEd25519PublicKey } from '../crypto/identity/peer-id.ts'
import { decodeEnvelope, verifyEnvelopeSignature } from '../protocol/envelope/envelope.ts'
import { TOPICS } from '../protocol/topics.ts'
import { AlertStore, type StoredAlert } from './alerts/alert-store.ts'
import { alertService, type AlertService } from './alerts/alert-service.ts'
import { loadOrCreateToken, type ApiToken } from './api/api-token.ts'
import { createApp } from './api/app.ts'
import { DecisionStore } from './decisions/decision-store.ts'
import { createDetectionEngine } from './detect/create-engine.ts'
import { detectionService, type DetectionService } from './detect/detection-service.ts'
import { LevelOffsetStore } from './ingest/follow/offset-store.ts'
import { createLogger, type Logger } from './logging/logger.ts'
import { createHost, type ShieldwallHost } from './p2p/create-host.ts'
import { openStore, type Store } from './store/open-store.ts'
import { SequenceCounter } from './store/sequence-counter.ts'

export const VERSION = '0.1.0'

export interface NodeOptions {
  logger?: Logger
  clock?: () => number
}

/** Written to `<dataDir>/api.json` while the node runs so `shieldwall status` (and tests) find the API. */
export interface ApiEndpointFile {
  url: string
  pid: number
  peerId: string
}

/**
 * One shieldwall node: identity, store, libp2p host, services and control API, started and stopped in
 * dependency order. The daemon, the tests and the simulator all run exactly this.
 */
export class ShieldwallNode {
  readonly config: ShieldwallConfig
  readonly log: Logger
  readonly #clock: () => number
  #identity?: NodeIdentity
  #store?: Store
  #host?: ShieldwallHost
  #alerts?: AlertService
  #alertStore?: AlertStore
  #decisions?: DecisionStore
  #detection?: DetectionService
  #server?: ServerType
  #token?: ApiToken
  #apiUrl?: string
  #startedAt = 0
  readonly #peerIdCache = new Map<string, string>()

  constructor(config: ShieldwallConfig, options: NodeOptions = {}) {
    this.config = config
    this.log = options.logger ?? createLogger({ level: config.log.level, nodeName: config.nodeName })
    this.#clock = options.clock ?? Date.now
  }

  get peerId(): string {
    return this.#need(this.#identity, 'identity').peerIdString
  }
  get host(): ShieldwallHost {
    return this.#need(this.#host, 'host')
  }
  get alerts(): AlertService {
    return this.#need(this.#alerts, 'alerts')
  }
  get alertStore(): AlertStore {
    return this.#need(this.#alertStore, 'alert store')
  }
  get decisions(): DecisionStore {
    return this.#need(this.#decisions, 'decision store')
  }
  get detection(): DetectionService {
    return this.#need(this.#detection, 'detection')
  }
  get apiToken(): ApiToken {
    return this.#need(this.#token, 'API token')
  }
  /** `http://host:port` of the control API (with the real port when configured as 0) */
  get apiUrl(): string {
    return this.#need(this.#apiUrl, 'API')
  }

  async start(): Promise<void> {
    const { config } = this
    await mkdir(config.dataDir, { recursive: true, mode: 0o700 })
    this.#identity = await loadOrCreateIdentity(config.dataDir)
    if (this.#identity.created) this.log.info({ peerId: this.peerId }, 'created a new node identity')
    this.#store = await openStore(config.dataDir)
    try {
      await this.#startServices()
    } catch (err) {
      await this.stop()
      throw err
    }
    this.#startedAt = this.#clock()
    this.log.info(
      { peerId: this.peerId, addresses: this.addresses(), api: this.#apiUrl },
      'shieldwall node started',
    )
  }

  async #startServices(): Promise<void> {
    const { config } = this
    const identity = this.#need(this.#identity, 'identity')
    const store = this.#need(this.#store, 'store')
    const alertStore = new AlertStore(store)
    await alertStore.open()
    this.#alertStore = alertStore
    const sequence = new SequenceCounter(store)
    await sequence.open()

    try {
      this.#host = await createHost({
        privateKey: identity.privateKey,
        listen: config.p2p.listen,
        announce: config.p2p.announce,
        bootstrap: config.p2p.bootstrap,
        dht: config.p2p.dht,
        maxConnections: config.p2p.maxConnections,
        logPrefix: config.nodeName,
      })
    } catch (err) {
      const e = err as Error & { code?: string }
      throw new ListenError(
        `peer-to-peer transport cannot start on ${config.p2p.listen.join(', ')}: ${e.message}`,
      )
    }
    this.#alerts = alertService({ ...config.alerts })({
      pubsub: this.#host.services.pubsub,
      alerts: alertStore,
      sequence,
      secretKey: identity.secretKey,
      publicKey: identity.publicKey,
      logger: this.log,
      clock: this.#clock,
    })
    this.#alerts.start()

    const decisions = new DecisionStore(store)
    await decisions.open()
    this.#decisions = decisions
    this.#detection = detectionService({
      sources: config.sources,
      publishAlerts: config.detect.publishAlerts,
    })({
      engine: createDetectionEngine(config.detect),
      decisions,
      alerts: this.#alerts,
      offsets: new LevelOffsetStore(store),
      logger: this.log,
      clock: this.#clock,
    })
    await this.#detection.start()

    if (config.api.enabled) {
      this.#token = await loadOrCreateToken(config.dataDir, config.api.token)
      await this.#startApi(this.#token.token)
    }
  }

  async #startApi(token: string): Promise<void> {
    const { host, port } = this.config.api
    const app = createApp(this, token, this.log.child({ component: 'api' }))
    const server = await new Promise<ServerType>((resolve, reject) => {
      const s = serve({ fetch: app.fetch, hostname: host, port }, () => resolve(s))
      s.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          new ListenError(
            `control API cannot listen on ${host}:${port}: ${err.code === 'EADDRINUSE' ? 'address already in use (is another node running? use --api HOST:PORT)' : err.message}`,
          ),
        ),
      )
    })
    this.#server = server
    const address = server.address() as AddressInfo
    const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address
    this.#apiUrl = `http://${shownHost}:${address.port}`
    const endpoint: ApiEndpointFile = { url: this.#apiUrl, pid: process.pid, peerId: this.peerId }
    await writeFile(join(this.config.dataDir, 'api.json'), JSON.stringify(endpoint) + '\n', { mode: 0o600 })
  }

  /** Reverse order of start; each step runs even if an earlier one failed, so the store is always closed. */
  async stop(): Promise<void> {
    const steps: Array<[string, () => Promise<unknown> | unknown]> = [
      ['api', () => this.#closeServer()],
      ['detection', () => this.#detection?.stop()],
      ['alerts', () => this.#alerts?.stop()],
      ['libp2p', () => this.#host?.stop()],
      ['store', () => this.#store?.close()],
      ['api.json', () => rm(join(this.config.dataDir, 'api.json'), { force: true })],
    ]
    for (const [name, step] of steps) {
      try {
        await step()
      } catch (err) {
        this.log.error({ err }, `error while stopping ${name}`)
      }
    }
    this.#server = undefined
    this.#host = undefined
    this.#store = undefined
  }

  async #closeServer(): Promise<void> {
    const server = this.#server
    if (server === undefined) return
    await new Promise<void>((resolve) => {
      server.close(() => resolve())
      // Keep-alive clients must not hold shutdown hostage.
      ;(server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.()
    })
  }

  addresses(): string[] {
    return this.host.getMultiaddrs().map((ma) => ma.toString())
  }

  async dial(ma: Multiaddr): Promise<void> {
    await this.host.dial(ma, { signal: AbortSignal.timeout(10_000) })
  }

  peerIdOfSender(senderHex: string): string {
    const cached = this.#peerIdCache.get(senderHex)
    if (cached !== undefined) return cached
    const id: string = peerIdFromEd25519PublicKey(Buffer.from(senderHex, 'hex')).toString()
    if (this.#peerIdCache.size > 10_000) this.#peerIdCache.clear()
    this.#peerIdCache.set(senderHex, id)
    return id
  }

  /** Re-checks a stored alert against its own signed bytes, so a flipped bit on disk shows as unverified. */
  verifyStoredAlert(alert: StoredAlert): boolean {
    try {
      const envelope = decodeEnvelope(Buffer.from(alert.envelope, 'base64'))
      const body = envelope.body as Record<string, unknown>
      return (
        verifyEnvelopeSignature(envelope) &&
        Buffer.from(envelope.sender).toString('hex') === alert.sender &&
        envelope.seq === alert.seq &&
        body.indicator === alert.indicator &&
        body.scenario === alert.scenario
      )
    } catch {
      return false
    }
  }

  async status() {
    const host = this.host
    const pubsub = host.services.pubsub
    const connections = host.getConnections()
    const peers = host.getPeers().map((peer) => ({
      peerId: peer.toString(),
      addresses: connections.filter((c) => c.remotePeer.equals(peer)).map((c) => c.remoteAddr.toString()),
    }))
    const topics = pubsub.getTopics().map((topic) => ({
      topic,
      subscribers: pubsub.getSubscribers(topic).length,
    }))
    const alerts = this.alerts.counts
    return {
      peerId: this.peerId,
      nodeName: this.config.nodeName ?? null,
      version: VERSION,
      uptimeSeconds: Math.round((this.#clock() - this.#startedAt) / 1000),
      addresses: this.addresses(),
      api: this.#apiUrl ?? null,
      peers,
      topics,
      dht: { enabled: host.services.dht !== undefined },
      detection: {
        sources: this.detection.sources(),
        engine: this.detection.engineStats(),
      },
      counts: {
        peers: peers.length,
        decisionsStored: this.decisions.count,
        alertsStored: this.alertStore.count,
        alertsPublished: alerts.published,
        alertsAccepted: alerts.accepted,
        alertsRejected: alerts.rejected,
        alertsIgnored: alerts.ignored,
      },
      alertTopic: TOPICS.alerts,
    }
  }

  #need<T>(value: T | undefined, what: string): T {
    if (value === undefined)
      throw new NodeNotStartedError(`${what} is not available: the node is not started`)
    return value
  }
}

export class ListenError extends Error {
  override name = 'ListenError'
}

export class NodeNotStartedError extends Error {
  override name = 'NodeNotStartedError'
}
