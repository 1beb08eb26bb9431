import { writeFile, rm } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import type { ServerType } from '@hono/node-server'
import { createApiServer } from './api/bouncer-fast-path.ts'
import type { ConnectionGater } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { ShieldwallConfig } from '../config/index.ts'
import { loadOrCreateIdentity, type NodeIdentity } from '../crypto/identity/node-identity.ts'
import { peerIdFromEd25519PublicKey } from '../crypto/identity/peer-id.ts'
import { decodeEnvelope, verifyEnvelopeSignature } from '../protocol/envelope/envelope.ts'
import { TOPICS } from '../protocol/topics.ts'
import { AlertStore, type StoredAlert } from './alerts/alert-store.ts'
import { alertService, type AlertService } from './alerts/alert-service.ts'
import { loadOrCreateToken, type ApiToken } from './api/api-token.ts'
import { apiExposureWarning } from './api/api-exposure.ts'
import { createApp } from './api/app.ts'
import { DecisionStore } from './decisions/decision-store.ts'
import { createDetectionEngine } from './detect/create-engine.ts'
import { detectionService, type DetectionService } from './detect/detection-service.ts'
import { LevelOffsetStore } from './ingest/follow/offset-store.ts'
import { createLogger, type Logger } from './logging/logger.ts'
import { bootstrapRedial, type BootstrapRedial } from './p2p/bootstrap-redial.ts'
import { createHost, type ShieldwallHost } from './p2p/create-host.ts'
import { ensureDataDir, openStore, type Store } from './store/open-store.ts'
import { checkStoreAfterRestart, summarizeBlocklist, writeStoreCheck } from './store/store-check.ts'
import { SequenceCounter } from './store/sequence-counter.ts'
import { alertSync, type AlertSync } from './sync/alert-sync.ts'
import { blocklistSummaries, type BlocklistSummaryService } from './sync/blocklist-summaries.ts'
import { catchUpService, type CatchUpService } from './sync/catch-up-service.ts'
import { SyncWatermark } from './sync/sync-watermark.ts'
import { VERSION } from './version.ts'
import { blocklist as createBlocklist, NEVER, type Blocklist } from './blocklist/blocklist.ts'
import { communityDefense, type CommunityDefense } from './defense/community-defense.ts'
import { nonRoutable } from './blocklist/allowlist.ts'
import { TokenStore } from './api/auth/token-store.ts'
import { webhookService, type WebhookService } from './integrations/webhooks.ts'
import { NodeMetrics } from './metrics/node-metrics.ts'
import { peerGossipScore } from './p2p/gossip-scoring.ts'
import { corroborationTracker, type CorroborationTracker } from './reputation/corroboration-tracker.ts'
import { reputationBook, type ReputationBook } from './reputation/reputation-book.ts'
import { bouncerService, type BouncerService } from './bouncer/bouncer-service.ts'
import { federation, type FederationService } from './learning/federation/federation-service.ts'
import { federationInitFromConfig } from './learning/federation/learning-config.ts'

export { VERSION } from './version.ts'

export interface NodeOptions {
  logger?: Logger
  clock?: () => number
  /**
   * Passed to libp2p as is: decides on every dial and upgrade which peers this node may talk to. Embedders
   * (the simulator's network partitions, deny rules) use it; a daemon runs without one.
   */
  connectionGater?: ConnectionGater
  /**
   * libp2p's own connection and stream metrics in the node's registry (default true). They wrap every stream,
   * which a daemon barely notices but which dominated a simulator running 50 nodes in one process.
   */
  libp2pMetrics?: boolean
  /**
   * libp2p pings every connection every 10 s to find dead ones (default true). Over the simulator's in-process
   * memory transport a connection cannot die unseen, and 50 nodes' pings were a tenth of its CPU.
   */
  connectionMonitor?: boolean
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
  readonly #connectionGater?: ConnectionGater
  readonly #libp2pMetrics: boolean
  readonly #connectionMonitor: boolean
  #identity?: NodeIdentity
  #store?: Store
  #host?: ShieldwallHost
  #redial?: BootstrapRedial
  #alerts?: AlertService
  #alertStore?: AlertStore
  #decisions?: DecisionStore
  #detection?: DetectionService
  #sync?: AlertSync
  #catchUp?: CatchUpService
  #summaries?: BlocklistSummaryService
  #blocklist?: Blocklist
  #reputation?: ReputationBook
  #corroboration?: CorroborationTracker
  #defense?: CommunityDefense
  #tokens?: TokenStore
  /** [time, blocklist size] samples for the dashboard: every 10 s, the last 24 h */
  readonly #blocklistHistory: [number, number][] = []
  #historyTimer?: NodeJS.Timeout
  #webhooks?: WebhookService
  /** one registry per node: the simulator runs many nodes in one process */
  readonly metrics: NodeMetrics
  #bouncers?: BouncerService
  #learning?: FederationService
  #server?: ServerType
  #token?: ApiToken
  #apiUrl?: string
  #startedAt = 0
  readonly #peerIdCache = new Map<string, string>()

  constructor(config: ShieldwallConfig, options: NodeOptions = {}) {
    this.config = config
    this.log = options.logger ?? createLogger({ level: config.log.level, nodeName: config.nodeName })
    this.#clock = options.clock ?? Date.now
    if (options.connectionGater !== undefined) this.#connectionGater = options.connectionGater
    this.#libp2pMetrics = options.libp2pMetrics ?? true
    this.#connectionMonitor = options.connectionMonitor ?? true
    this.metrics = new NodeMetrics(config.nodeName !== undefined ? { node: config.nodeName } : {})
  }

  get peerId(): string {
    return this.#need(this.#identity, 'identity').peerIdString
  }
  get host(): ShieldwallHost {
    return this.#need(this.#host, 'host')
  }
  /** redials the configured bootstrap peers while the node has no connection; `dialAll()` on demand */
  get bootstrapRedial(): BootstrapRedial {
    return this.#need(this.#redial, 'bootstrap redial')
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
  /** the alert catch-up protocol (serving and fetching pages) */
  get sync(): AlertSync {
    return this.#need(this.#sync, 'alert sync')
  }
  /** when and from whom this node catches up */
  get catchUp(): CatchUpService {
    return this.#need(this.#catchUp, 'catch-up')
  }
  /** signed blocklist summaries: `setSource` to publish ours, `onSummary` to hear others' */
  get blocklistSummaries(): BlocklistSummaryService {
    return this.#need(this.#summaries, 'blocklist summaries')
  }
  /** this node's trust in every peer it has heard from */
  get reputation(): ReputationBook {
    return this.#need(this.#reputation, 'reputation')
  }
  /** turns corroboration and admin feedback into reputation evidence */
  get corroboration(): CorroborationTracker {
    return this.#need(this.#corroboration, 'corroboration')
  }
  /** the path from local decisions and peers' alerts to blocks */
  get defense(): CommunityDefense {
    return this.#need(this.#defense, 'community defense')
  }
  /** scoped API tokens beyond the admin token file */
  get tokens(): TokenStore {
    return this.#need(this.#tokens, 'API tokens')
  }
  /** signed deliveries of decisions and alerts to SIEMs and chat */
  get webhooks(): WebhookService {
    return this.#need(this.#webhooks, 'webhooks')
  }
  /** what this node blocks, read by every enforcer */
  get blocklist(): Blocklist {
    return this.#need(this.#blocklist, 'blocklist')
  }
  /** CrowdSec-compatible enforcement: bouncer keys, the change journal and the decision feed */
  /** federated learning: the global model, training data, rounds, privacy ledger and model registry */
  get learning(): FederationService {
    return this.#need(this.#learning, 'learning')
  }
  get bouncers(): BouncerService {
    return this.#need(this.#bouncers, 'bouncer API')
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
    // a file in the way or a read-only dir is one error naming the path, before an identity is created
    await ensureDataDir(config.dataDir)
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
    const sample = () => {
      const history = this.#blocklistHistory
      history.push([this.#clock(), this.#blocklist?.size ?? 0])
      if (history.length > HISTORY_SAMPLES) history.splice(0, history.length - HISTORY_SAMPLES)
    }
    sample()
    this.#historyTimer = setInterval(sample, HISTORY_INTERVAL_MS).unref()
    this.log.info(
      { peerId: this.peerId, addresses: this.addresses(), api: this.#apiUrl },
      'shieldwall node started',
    )
  }

  async #startServices(): Promise<void> {
    const { config } = this
    const identity = this.#need(this.#identity, 'identity')
    const store = this.#need(this.#store, 'store')
    // storage bounded by trust (issue 15): the reputation book opens next, so trust is looked up late
    const alertStore = new AlertStore(
      store,
      { maxStored: config.alerts.maxStored },
      { trustOf: (hex) => this.#reputation?.trust(this.peerIdOfSender(hex)) ?? 0 },
    )
    await alertStore.open()
    this.#alertStore = alertStore
    const sequence = new SequenceCounter(store)
    await sequence.open()

    // Reputation first: gossipsub asks it for every peer's app-specific score from the first heartbeat.
    const book = reputationBook({ halfLifeMs: config.reputation.halfLifeDays * 86_400_000 })({
      store,
      clock: this.#clock,
      logger: this.log,
    })
    await book.open()
    this.#reputation = book
    for (const peer of config.reputation.trustedPeers) await book.pin(peer, 'trusted')
    for (const peer of config.reputation.bannedPeers) await book.pin(peer, 'banned')
    this.#corroboration = corroborationTracker()({ book, clock: this.#clock, logger: this.log })
    this.#corroboration.start()

    try {
      this.#host = await createHost({
        privateKey: identity.privateKey,
        listen: config.p2p.listen,
        announce: config.p2p.announce,
        bootstrap: config.p2p.bootstrap,
        dht: config.p2p.dht,
        maxConnections: config.p2p.maxConnections,
        logPrefix: config.nodeName,
        appSpecificScore: (peerId) => book.gossipScore(peerId),
        ...(this.#libp2pMetrics ? { metricsRegistry: this.metrics.registry } : {}),
        connectionMonitor: this.#connectionMonitor,
        ...(this.#connectionGater !== undefined ? { connectionGater: this.#connectionGater } : {}),
      })
    } catch (err) {
      const e = err as Error & { code?: string }
      throw new ListenError(
        `peer-to-peer transport cannot start on ${config.p2p.listen.join(', ')}: ${e.message}`,
      )
    }
    // @libp2p/bootstrap dials its list once (and not /memory/ addresses); this keeps redialling while alone.
    this.#redial = bootstrapRedial({ list: config.p2p.bootstrap })({ libp2p: this.#host, logger: this.log })
    this.#redial.start()
    this.#alerts = alertService({ ...config.alerts })({
      pubsub: this.#host.services.pubsub,
      alerts: alertStore,
      sequence,
      secretKey: identity.secretKey,
      publicKey: identity.publicKey,
      logger: this.log,
      clock: this.#clock,
      trustOf: (peer) => book.trust(peer),
      trustedThreshold: config.blocklist.trustedThreshold,
      hangUp: (peer) => this.host.hangUp(peer),
    })
    await this.#startSync(store, sequence)
    await this.#startLearning(store, sequence)

    const decisions = new DecisionStore(store)
    await decisions.open()
    this.#decisions = decisions
    this.#detection = detectionService({
      sources: config.sources,
      publishAlerts: config.detect.publishAlerts,
    })({
      engine: createDetectionEngine(config.detect, {
        // the service that receives sightings is built from this engine: bind late
        onSighting: (f) => this.#detection?.sight(f),
        detectors:
          this.#learning !== undefined && config.learning.detector.enabled ? [this.#learning.detector] : [],
      }),
      decisions,
      alerts: this.#alerts,
      alertStore,
      offsets: new LevelOffsetStore(store),
      alreadyBlocked: (ip) => (this.#blocklist?.lookup(ip).length ?? 0) > 0,
      // what this node never blocks itself it never tells the network about either
      unshareable: (ip) => (this.#blocklist ? this.#blocklist.allowlist.unshareable(ip) : nonRoutable(ip)),
      logger: this.log,
      clock: this.#clock,
    })

    // Enforcement: the blocklist, and the CrowdSec bouncer API and change stream over it.
    const bl = config.blocklist
    this.#blocklist = createBlocklist({
      allowlist: { privateRanges: bl.allowPrivateRanges, extra: bl.allowlist },
      policy: {
        minTrustedReporters: bl.minTrustedReporters,
        trustedThreshold: bl.trustedThreshold,
        communityThreshold: bl.communityThreshold,
        untrustedCap: bl.untrustedCap,
      },
      communityBanSeconds: bl.communityBanSeconds,
    })({ store, clock: this.#clock, logger: this.log, trustOf: (peer) => book.trust(peer) })
    await this.#blocklist.start()
    // LevelDB drops the rest of a truncated log silently: compare with what the last clean stop left
    await checkStoreAfterRestart(config.dataDir, this.#blocklist.size, this.#clock(), this.log)
    this.#allowOwnAddresses()
    this.#defense = communityDefense({ shareLocal: config.detect.publishAlerts })({
      blocklist: this.#blocklist,
      book,
      tracker: this.#corroboration,
      alerts: this.alerts,
      detection: this.detection,
      summaries: this.#summaries,
      peerIdOfSender: (hex) => this.peerIdOfSender(hex),
      logger: this.log,
      clock: this.#clock,
    })
    this.#defense.start()
    // Only now listen to the network: every alert, live or caught up, must find the defense listening.
    this.alerts.start()
    this.blocklistSummaries.start()
    this.catchUp.start()
    this.#bouncers = bouncerService({ streams: config.api.streams })({
      store,
      blocklist: this.#blocklist,
      logger: this.log,
      clock: this.#clock,
    })
    await this.#bouncers.start()
    this.#wireLearningLabels()

    this.#webhooks = webhookService()({
      store,
      logger: this.log,
      clock: this.#clock,
      source: this.peerId,
      onOutcome: (outcome) => this.metrics.webhookDeliveries.inc({ outcome }),
    })
    await this.#webhooks.start()
    this.#wireIntegrations()
    // Last, once every decision listener is in place: start-up announces the decisions a crash left without
    // their alert, and the followed logs may decide at once; each must reach the blocklist and the webhooks.
    await this.#detection.start()

    if (config.api.enabled) {
      this.#tokens = new TokenStore(store, this.#clock)
      await this.#tokens.open()
      this.#token = await loadOrCreateToken(config.dataDir, config.api.token)
      await this.#startApi(this.#token.token)
    }
  }

  /** Metrics read at scrape time; decisions, block changes and alerts also go to webhooks as they happen. */
  #wireIntegrations(): void {
    const metrics = this.metrics
    const webhooks = this.webhooks
    metrics.provide({
      ingestSources: () => this.detection.sources(),
      detectorStats: () => this.detection.engineStats().detectors as Record<string, Record<string, number>>,
      alertCounts: () => this.alerts.counts,
      peers: () => this.host.getPeers().length,
      gossipScores: () =>
        this.host
          .getPeers()
          .map((p) => peerGossipScore(this.host.services.pubsub, p.toString()))
          .filter((s): s is number => s !== undefined),
      trust: () => this.reputation.trustValues(),
      blocklistSize: () => this.blocklist.size,
      federation: () => {
        const s = this.learning.status()
        return {
          rounds: s.round,
          epsilonSpent: s.epsilonSpent,
          epsilonBudget: s.epsilonBudget,
          contributing: s.contributing,
        }
      },
    })
    this.detection.onDecision((d) => metrics.decisions.inc({ scenario: d.scenario, origin: d.origin }))
    this.blocklist.onChange((change) => {
      metrics.blocklistChanges.inc({ change: change.kind, origin: change.entry.origin })
      webhooks.emit(change.kind === 'added' ? 'decision.added' : 'decision.removed', {
        ...change.entry,
        ...(change.kind === 'removed' ? { reason: change.reason } : {}),
      })
    })
    this.alerts.onAlert((a) => {
      const { envelope: _signed, ...alert } = a
      webhooks.emit(a.origin === 'local' ? 'alert.published' : 'alert.received', {
        ...alert,
        reporter: this.peerIdOfSender(a.sender),
      })
    })
  }

  /** The node's own verdicts label its traffic for training: confident rule decisions and community blocks. */
  #wireLearningLabels(): void {
    const learning = this.#learning
    if (learning === undefined) return
    this.detection.onDecision((d) => learning.data.observeDecision(d, this.#clock()))
    this.blocklist.onChange((c) => {
      if (c.kind === 'added' && c.entry.origin === 'community' && c.entry.scope === 'ip') {
        learning.data.observeCommunityBlock(c.entry.value, this.#clock())
      }
    })
  }

  async #startLearning(store: Store, sequence: SequenceCounter): Promise<void> {
    const { config } = this
    if (!config.learning.enabled) return
    const identity = this.#need(this.#identity, 'identity')
    const book = this.#need(this.#reputation, 'reputation')
    this.#learning = federation(
      federationInitFromConfig(
        config.learning,
        config.alerts.maxClockSkewSeconds * 1000,
        config.detect.threshold,
      ),
    )({
      pubsub: this.host.services.pubsub,
      libp2p: this.host,
      store,
      sequence,
      secretKey: identity.secretKey,
      publicKey: identity.publicKey,
      logger: this.log,
      clock: this.#clock,
      // model sync, fork healing and update weights follow trust, not how many identities speak (issue 15)
      trustOf: (peer) => book.trust(peer),
    })
    await this.#learning.start()
  }

  async #startSync(store: Store, sequence: SequenceCounter): Promise<void> {
    const { config } = this
    const host = this.host
    const identity = this.#need(this.#identity, 'identity')
    const alerts = this.alerts
    this.#sync = alertSync()({
      libp2p: host,
      alertStore: this.alertStore,
      intake: (bytes, origin) => alerts.intake(bytes, origin),
      // what one catch-up takes from a serving peer follows its trust (issue 15)
      trustOf: (peer) => this.reputation.trust(peer),
      logger: this.log,
      clock: this.#clock,
    })
    await this.#sync.start()
    this.#summaries = blocklistSummaries({
      maxClockSkewMs: config.alerts.maxClockSkewSeconds * 1000,
      intervalMs: config.blocklist.summaryIntervalSeconds * 1000,
      publish: config.blocklist.publishSummaries,
    })({
      pubsub: host.services.pubsub,
      sequence,
      secretKey: identity.secretKey,
      publicKey: identity.publicKey,
      logger: this.log,
      clock: this.#clock,
      trustOf: (peer) => this.reputation.trust(peer),
      trustedThreshold: config.blocklist.trustedThreshold,
      hangUp: (peer) => host.hangUp(peer),
    })
    const watermark = new SyncWatermark(store)
    await watermark.open()
    this.#catchUp = catchUpService({ lookbackMs: config.alerts.maxTtlSeconds * 1000 })({
      libp2p: host,
      sync: this.#sync,
      watermark,
      logger: this.log,
      clock: this.#clock,
    })
  }

  async #startApi(token: string): Promise<void> {
    const { host, port } = this.config.api
    const app = createApp(this, token, this.log.child({ component: 'api' }))
    const server = await new Promise<ServerType>((resolve, reject) => {
      const s = createApiServer(app, this.bouncers, this.metrics)
      s.listen(port, host, () => resolve(s))
      s.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          new ListenError(
            `control API cannot listen on ${host}:${port}: ${err.code === 'EADDRINUSE' ? 'address already in use (is another node running? use --api HOST:PORT)' : err.message}`,
          ),
        ),
      )
    })
    this.#server = server
    const exposure = apiExposureWarning(host)
    if (exposure !== undefined) this.log.warn({ host, port }, exposure)
    const address = server.address() as AddressInfo
    const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address
    this.#apiUrl = `http://${shownHost}:${address.port}`
    const endpoint: ApiEndpointFile = { url: this.#apiUrl, pid: process.pid, peerId: this.peerId }
    await writeFile(join(this.config.dataDir, 'api.json'), JSON.stringify(endpoint) + '\n', { mode: 0o600 })
  }

  /** What the next start compares the opened blocklist with (node/store/store-check.ts). */
  async #recordStoreCheck(): Promise<void> {
    const list = this.#blocklist
    if (list === undefined) return
    const expiries = (function* () {
      for (const e of list.entries()) yield e.expiresAt
    })()
    const now = this.#clock()
    await writeStoreCheck(this.config.dataDir, {
      version: 1,
      writtenAt: now,
      blocklist: summarizeBlocklist(expiries, NEVER),
    })
  }

  /** Reverse order of start; each step runs even if an earlier one failed, so the store is always closed. */
  async stop(): Promise<void> {
    const steps: Array<[string, () => Promise<unknown> | unknown]> = [
      ['history', () => clearInterval(this.#historyTimer)],
      ['api', () => this.#closeServer()],
      // first: the decisions it finishes announcing while stopping still reach the defense and the webhooks
      ['detection', () => this.#detection?.stop()],
      ['bouncers', () => this.#bouncers?.stop()],
      ['defense', () => this.#defense?.stop()],
      ['store check', () => this.#recordStoreCheck()],
      ['blocklist', () => this.#blocklist?.stop()],
      ['learning', () => this.#learning?.stop()],
      ['catch-up', () => this.#catchUp?.stop()],
      ['sync', () => this.#sync?.stop()],
      ['blocklist summaries', () => this.#summaries?.stop()],
      ['webhooks', () => this.#webhooks?.stop()],
      ['alerts', () => this.#alerts?.stop()],
      ['corroboration', () => this.#corroboration?.stop()],
      ['reputation', () => this.#reputation?.stop()],
      ['bootstrap redial', () => this.#redial?.stop()],
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

  /** This node's own addresses are never blocked, whatever a peer claims (and claiming it costs trust). */
  #allowOwnAddresses(): void {
    const host = this.host
    const allowlist = this.blocklist.allowlist
    const allow = () => {
      for (const ma of host.getMultiaddrs()) {
        const ip = ma.getComponents().find((c) => c.name === 'ip4' || c.name === 'ip6')?.value
        if (ip === undefined || ip === '0.0.0.0' || ip === '::') continue
        try {
          allowlist.addSelf(ip)
        } catch (err) {
          this.log.debug({ err, ip }, 'own address not allowlisted')
        }
      }
    }
    allow()
    host.addEventListener('self:peer:update', allow)
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
      learning: this.#learningStatus(),
      blocklist: {
        size: this.blocklist.size,
        stats: this.blocklist.stats(),
        history: this.#blocklistHistory,
      },
      defense: this.defense.counts,
      alertTopic: TOPICS.alerts,
    }
  }

  #learningStatus() {
    const learning = this.#learning
    if (learning === undefined) return null
    const s = learning.status()
    return {
      backend: s.backend,
      round: s.round,
      epsilonSpent: s.epsilonSpent,
      epsilonBudget: s.epsilonBudget,
      contributing: s.contributing,
      modelHash: s.modelHash,
    }
  }

  #need<T>(value: T | undefined, what: string): T {
    if (value === undefined)
      throw new NodeNotStartedError(`${what} is not available: the node is not started`)
    return value
  }
}

const HISTORY_INTERVAL_MS = 10_000
const HISTORY_SAMPLES = (24 * 3600_000) / HISTORY_INTERVAL_MS

export class ListenError extends Error {
  override name = 'ListenError'
}

export class NodeNotStartedError extends Error {
  override name = 'NodeNotStartedError'
}
