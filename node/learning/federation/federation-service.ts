/**
 * Federated training of the window model. Every round (see `round-clock.ts`) each contributing node trains the
 * current global model on its own labelled traffic with DP-SGD, reserves the privacy cost in its ledger, and
 * gossips the signed, quantized delta on `/shieldwall/models/1`. At the round's close every node aggregates the
 * round's updates that start from the same model (its own included) with a robust rule, gates the result on its
 * own validation slice, adopts it and announces what it adopted.
 *
 * Agreement without a coordinator: the result depends only on the set of updates, so nodes that received the same
 * set compute the same global model hash. Updates are sorted by sender key, decoded from the exact bytes that were
 * sent (the node decodes its own quantized update too), aggregated in plain JavaScript with float64 accumulators,
 * and added to float32 weights in a fixed order. The gate only decides what a node detects with: a node that turns
 * a round's model down keeps its adopted model but stays on the federation's chain (`globalHash`), so a local veto
 * does not fork it off. Sets can still differ: an update that arrives after some nodes closed (late gossip, a
 * trainer past the publish deadline, clock skew beyond the margins) leaves nodes on different global models; their
 * updates then carry base hashes the others ignore. A node heals at its next training time when the peers it trusts
 * announce another model, by fetching it over `/shieldwall/model-sync/1.0.0` (`sync()`, also `POST
 * /api/ml/federation/sync`). Identities are free, so neither healing nor sync counts peers: both weigh them by trust
 * with the blocklist's Sybil rule (`sync-agreement.ts`), and a claimed round must fit the round clock. A model
 * adopted without validating on this node's own labelled data is provisional: the model detector's findings are
 * capped below a ban until one validates. Updates are not weighed by trust unless `weighUpdatesByTrust`: trust is
 * a local opinion, and with `fedavg` it would make honest nodes disagree (the median, trimmed mean and Krum ignore
 * weights).
 */
import { randomInt } from 'node:crypto'
import type { GossipSub, Message } from '@libp2p/gossipsub'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import type { PeerId } from '@libp2p/interface'
import { peerIdFromEd25519PublicKey } from '../../../crypto/identity/peer-id.ts'
import { encodeEnvelope, sealEnvelope, type Envelope } from '../../../protocol/envelope/envelope.ts'
import {
  MODEL_ANNOUNCE_TYPE,
  MODEL_ANNOUNCE_VERSION,
  type ModelAnnounceBody,
} from '../../../protocol/messages/model-announce.ts'
import {
  MODEL_UPDATE_TYPE,
  MAX_REPORTED_EPSILON,
  MODEL_UPDATE_VERSION,
  exampleBucket,
  type ModelUpdateBody,
  type ModelUpdateEncoding,
} from '../../../protocol/messages/model-update.ts'
import { TOPIC_MESSAGES } from '../../../protocol/messages/registry.ts'
import { TOPICS } from '../../../protocol/topics.ts'
import {
  checkBody,
  checkFreshness,
  checkHeader,
  checkSignature,
  isUnverified,
  VALIDATION_REASONS,
  type ValidationReason,
} from '../../../protocol/validation/validate-envelope.ts'
import { trustBudget, type Allowance, type PeerBudget } from '../../p2p/peer-budget.ts'
import { SenderRateLimiter } from '../../alerts/sender-rate-limiter.ts'
import type { Logger } from '../../logging/logger.ts'
import type { Store } from '../../store/open-store.ts'
import type { AggregationRule } from '../aggregation/aggregate.ts'
import { initTensorflow, type TensorflowBackend, type TensorflowRuntime } from '../backend.ts'
import { decodeWeights, encodeWeights, type EncodedWeights } from '../codec/weights-codec.ts'
import { trainLocal } from '../dp/local-training.ts'
import { schemaId } from '../model/feature-schema-ref.ts'
import {
  applyDelta,
  createMlp,
  flattenWeights,
  layerShapes,
  parameterCount,
  unflattenWeights,
  type MlpModel,
} from '../model/mlp.ts'
import { modelHash } from '../model/model-hash.ts'
import { predictOne } from '../model/mlp-predict.ts'
import { PrivacyLedger, type ContributionParams } from '../ledger/privacy-ledger.ts'
import {
  ModelRegistry,
  type GateDecision,
  type ModelSource,
  type ModelVersion,
} from '../registry/model-registry.ts'
import { aggregateRound, type RoundAggregate, type RoundUpdate } from './aggregate-round.ts'
import {
  DEFAULT_GATE_INIT,
  MAX_SHIFT_WINDOWS,
  canJudge,
  evaluate,
  gateDecision,
  metricsRecord,
  predictionShift,
  type Evaluation,
  type PredictionShift,
} from './gate.ts'
import { ModelDetector, PROVISIONAL_SCORE_CAP } from './model-detector.ts'
import {
  DEFAULT_SYNC_MIN_SUPPORT,
  DEFAULT_SYNC_TRUSTED_THRESHOLD,
  DEFAULT_SYNC_UNTRUSTED_CAP,
  weighVotes,
  type AgreementPolicy,
} from './sync-agreement.ts'
import {
  DEFAULT_MODEL_SYNC_REQUESTS_PER_PEER_PER_MINUTE,
  MODEL_SYNC_PROTOCOL,
  fetchModel,
  serveModelSync,
  type ModelSyncLibp2p,
  type ModelSyncResponse,
} from './model-sync.ts'
import { RoundClock, type RoundEvent, type RoundPhase } from './round-clock.ts'
import { TrainingData } from './training-data.ts'
import { MODEL_FEATURE_SETS, type ModelFeatures } from './model-features.ts'

export interface FederationInit {
  roundMs: number
  epochMs: number
  trainFraction: number
  closeFraction: number
  rule: AggregationRule
  trimFraction: number
  /** bound every update's L2 norm before aggregating: a fixed bound, 'median' (adaptive) or 'none' */
  normBound: number | 'median' | 'none'
  medianNormFactor: number
  encoding: ModelUpdateEncoding
  /** the model's inputs: the live window schema, or NSL-KDD records (simulator only; see model-features.ts) */
  features: ModelFeatures
  /** the initial model: same seed and widths on every node, so all start from one hash without shipping it */
  hidden: number[]
  modelSeed: number
  epochs: number
  batchSize: number
  learningRate: number
  momentum: number
  /** training examples (both classes present) needed before this node contributes */
  minExamples: number
  contributing: boolean
  epsilonBudget: number
  delta: number
  clipNorm: number
  noiseMultiplier: number
  f1Margin: number
  lossMargin: number
  minValidation: number
  /** without labelled validation data: the gate's limits on how much a candidate may move recent predictions */
  maxFlipShare: number
  maxMeanShift: number
  minShiftWindows: number
  perClass: number
  validationFraction: number
  benignSampleRate: number
  labelDelayMs: number
  detectorThreshold: number
  detectorMinEvents: number
  /** the highest score a finding of a model not validated on local data carries (see `ModelDetector`) */
  provisionalScoreCap: number
  windowMs: number
  maxMessageBytes: number
  maxClockSkewMs: number
  /** updates and announces accepted per sender per minute */
  maxPerSenderPerMinute: number
  /** updates kept per round; more are ignored */
  maxParticipants: number
  backends: TensorflowBackend[]
  syncTimeoutMs: number
  /** model-sync requests this node answers per peer per minute (see `serveModelSync`) */
  syncRequestsPerPeerPerMinute: number
  /**
   * Weigh peers' updates by trust when aggregating. Off by default: the robust rules (median, trimmed mean, Krum)
   * ignore weights, and with `fedavg` the members of a community that does not trust each other yet would each
   * weigh their own update at 1 and the others' at ~0.04, and stop agreeing. Sync and fork healing always weigh
   * by trust.
   */
  weighUpdatesByTrust: boolean
  /** peers asked (and answers taken) per sync, the most trusted first */
  syncMaxPeers: number
  /** sync and fork healing: who counts as trusted, what untrusted peers weigh together, what a model needs */
  syncTrustedThreshold: number
  syncUntrustedCap: number
  syncMinSupport: number
}

/**
 * Each answer is a whole model to receive and hash: a sync asks a bounded set of peers, the most trusted first, so
 * fresh identities crowding the topic neither cost the node unbounded work nor push trusted peers out of the set.
 */
export const DEFAULT_SYNC_MAX_PEERS = 8

export const DEFAULT_FEDERATION_INIT: FederationInit = {
  roundMs: 10 * 60_000,
  epochMs: 0,
  trainFraction: 0.05,
  closeFraction: 0.8,
  rule: 'median',
  trimFraction: 0.25,
  normBound: 'median',
  medianNormFactor: 2,
  encoding: 'f16',
  features: 'window',
  hidden: [64, 32],
  modelSeed: 0x5eed,
  epochs: 1,
  batchSize: 64,
  learningRate: 0.1,
  momentum: 0.5,
  minExamples: 64,
  contributing: true,
  epsilonBudget: 10,
  delta: 1e-5,
  clipNorm: 1,
  noiseMultiplier: 1.1,
  ...DEFAULT_GATE_INIT,
  perClass: 2000,
  validationFraction: 0.2,
  benignSampleRate: 0.25,
  labelDelayMs: 5 * 60_000,
  detectorThreshold: 0.9,
  detectorMinEvents: 5,
  provisionalScoreCap: PROVISIONAL_SCORE_CAP,
  windowMs: 60_000,
  maxMessageBytes: 256 * 1024,
  maxClockSkewMs: 30_000,
  maxPerSenderPerMinute: 30,
  maxParticipants: 256,
  backends: ['tensorflow', 'wasm', 'cpu'],
  syncTimeoutMs: 10_000,
  syncRequestsPerPeerPerMinute: DEFAULT_MODEL_SYNC_REQUESTS_PER_PEER_PER_MINUTE,
  weighUpdatesByTrust: false,
  syncMaxPeers: DEFAULT_SYNC_MAX_PEERS,
  syncTrustedThreshold: DEFAULT_SYNC_TRUSTED_THRESHOLD,
  syncUntrustedCap: DEFAULT_SYNC_UNTRUSTED_CAP,
  syncMinSupport: DEFAULT_SYNC_MIN_SUPPORT,
}

export interface FederationComponents {
  pubsub: GossipSub
  /** for the model-sync protocol; without it the node neither serves nor fetches models */
  libp2p?: ModelSyncLibp2p
  store: Store
  sequence: { next(now?: number): Promise<number> }
  secretKey: Uint8Array
  publicKey: Uint8Array
  logger: Logger
  clock?: () => number
  /**
   * The node's trust in a peer, 0..1 (the reputation book's), weighing its answers to model sync, its announces and
   * (with `weighUpdatesByTrust`) its updates. 1 for everyone unless given: only for tests whose members are all
   * honest by construction.
   */
  trustOf?: (peerId: string) => number
}

/**
 * What a forwarding peer may make this node spend on the models topic (issue 15), scaled by trust as on the
 * alerts topic (node/p2p/peer-budget.ts) but sized for this topic: a member sends one update and one announce a
 * round, so a relay hands over at most about twice the members' count per round, in a burst at training time.
 * A stranger may be judged for 640 messages at once and verified for 64 (a round of a 32-member community that
 * trusts nobody yet), refilled slowly; a trusted peer a hundred times that. Peers below the trusted threshold
 * together draw on one pool of ten strangers' worth, so fresh identities do not add up.
 */
export const MODEL_JUDGE_ALLOWANCE_UNKNOWN: Allowance = { perSecond: 5, burst: 640 }
export const MODEL_JUDGE_ALLOWANCE_TRUSTED: Allowance = { perSecond: 500, burst: 64_000 }
export const MODEL_VERIFY_ALLOWANCE_UNKNOWN: Allowance = { perSecond: 0.5, burst: 64 }
export const MODEL_VERIFY_ALLOWANCE_TRUSTED: Allowance = { perSecond: 50, burst: 6_400 }

/** Model-specific reasons on top of the envelope validator's. */
export const FEDERATION_REASONS = {
  non_finite: 'reject',
  schema_mismatch: 'ignore',
  shape_mismatch: 'ignore',
  wrong_round: 'ignore',
  base_mismatch: 'ignore',
  duplicate: 'ignore',
  round_full: 'ignore',
} as const
export type FederationReason = keyof typeof FEDERATION_REASONS
export type ModelValidationReason = ValidationReason | FederationReason

export type ModelVerdict =
  | { action: 'accept'; kind: 'update' | 'announce'; peerId: string }
  | { action: 'reject' | 'ignore'; reason: ModelValidationReason; detail: string; peerId?: string }

export const CONTRIBUTION_STATES = [
  'contributing',
  'paused',
  'budget-exhausted',
  'not-enough-data',
  'not-started',
] as const
export type ContributionState = (typeof CONTRIBUTION_STATES)[number]

export interface PeerStats {
  peerId: string
  lastRound: number | null
  lastUpdateAt: number | null
  accepted: number
  rejected: number
  ignored: number
  lastAnnounce: { modelHash: string; round: number; at: number } | null
}

export interface AggregationRecord {
  round: number
  at: number
  outcome: 'adopted' | 'rejected' | 'no-updates' | 'unchanged' | 'failed'
  rule: AggregationRule
  appliedRule?: AggregationRule
  participants: Array<{ peerId: string; weight: number; norm: number; cosine: number }>
  baseHash: string
  modelHash?: string
  gate?: GateDecision
  error?: string
}

export interface ContributionRecord {
  round: number
  at: number
  examples: number
  exampleBucket: number
  steps: number
  epsilonSpent: number
  meanLoss: number
  published: boolean
}

export interface PerformancePoint {
  at: number
  modelHash: string
  round: number
  source: ModelSource | 'evaluation'
  precision: number
  recall: number
  f1: number
  rocAuc: number | null
  fpr: number
  loss: number
  n: number
}

export class FederationNotStartedError extends Error {
  override name = 'FederationNotStartedError'
}

export class InvalidFeatureVectorError extends Error {
  override name = 'InvalidFeatureVectorError'
}

export class NotEnoughDataError extends Error {
  override name = 'NotEnoughDataError'
}

export class TrainingUnavailableError extends Error {
  override name = 'TrainingUnavailableError'
}

const HISTORY = 200
const FORCED_PREFIX = 'forced by the operator'

/** a stored version that passed the gate on this node's labelled data, not by the operator's force */
function validatedHere(v: Pick<ModelVersion, 'metrics' | 'gate'>): boolean {
  return (
    v.metrics['eval-examples'] !== undefined &&
    v.gate?.decision === 'accept' &&
    !v.gate.reason.startsWith(FORCED_PREFIX)
  )
}
const MAX_PEERS = 1024
const SETTINGS_BUDGET = 'epsilon-budget'
const SETTINGS_GLOBAL = 'global-model'
const ANNOUNCE_TTL_MS = 60 * 60_000
const MAX_TTL_MS = 24 * 60 * 60_000

interface ReceivedUpdate extends RoundUpdate {
  baseHash: string
}

/** A hook for adversarial simulations and tests: rewrites this node's delta just before it is encoded. */
export type UpdateTransform = (delta: Float32Array) => Float32Array

export class FederationService {
  readonly init: FederationInit
  readonly data: TrainingData
  readonly detector: ModelDetector
  readonly #c: FederationComponents
  readonly #clock: () => number
  readonly #log: Logger
  readonly #roundClock: RoundClock
  readonly #registry: ModelRegistry
  readonly #settings
  readonly #limiter: SenderRateLimiter
  readonly #judgeBudget: PeerBudget
  readonly #verifyBudget: PeerBudget
  readonly #publicKeyHex: string
  readonly #peerId: string
  #ledger: PrivacyLedger
  #tf?: TensorflowRuntime
  #model?: MlpModel
  #modelId = ''
  #modelRound = 0
  /**
   * The federation's global model: what this node trains on and aggregates onto. Usually the adopted model; when
   * this node's gate turned a round's result down, the node keeps detecting with its adopted model but stays on
   * the federation's chain, so one node's veto does not fork it off.
   */
  #global?: { model: MlpModel; id: string; round: number }
  /** round -> sender hex -> update */
  readonly #rounds = new Map<number, Map<string, ReceivedUpdate>>()
  readonly #closed = new Set<number>()
  readonly #peers = new Map<string, PeerStats>()
  #state: ContributionState = 'not-started'
  #stateDetail = ''
  #lastAggregation?: AggregationRecord
  #lastContribution?: ContributionRecord
  readonly #gates: Array<
    { at: number; round: number; modelHash: string; source: ModelSource } & GateDecision
  > = []
  readonly #performance: PerformancePoint[] = []
  #transform?: UpdateTransform
  readonly #aggregationListeners = new Set<(record: AggregationRecord) => void>()
  #chain: Promise<unknown> = Promise.resolve()
  #started = false
  readonly counts = { published: 0, announced: 0, accepted: 0, verified: 0, rejected: {}, ignored: {} } as {
    published: number
    announced: number
    /** signatures checked: what forwarding peers' verification budgets bound */
    verified: number
    accepted: number
    rejected: Partial<Record<ModelValidationReason, number>>
    ignored: Partial<Record<ModelValidationReason, number>>
  }

  constructor(init: FederationInit, components: FederationComponents) {
    this.init = init
    this.#c = components
    this.#clock = components.clock ?? Date.now
    this.#log = components.logger.child({ component: 'federation' })
    this.#roundClock = new RoundClock(
      {
        roundMs: init.roundMs,
        epochMs: init.epochMs,
        trainFraction: init.trainFraction,
        closeFraction: init.closeFraction,
      },
      this.#clock,
    )
    this.#registry = new ModelRegistry(components.store)
    this.#settings = components.store.sublevel<string, string>('federation', { valueEncoding: 'utf8' })
    this.#ledger = this.#newLedger(init.epsilonBudget)
    this.#limiter = new SenderRateLimiter(init.maxPerSenderPerMinute)
    const budgetTrust = (peer: string) => this.#trust(peer)
    this.#judgeBudget = trustBudget(
      MODEL_JUDGE_ALLOWANCE_UNKNOWN,
      MODEL_JUDGE_ALLOWANCE_TRUSTED,
      budgetTrust,
      init.syncTrustedThreshold,
    )
    this.#verifyBudget = trustBudget(
      MODEL_VERIFY_ALLOWANCE_UNKNOWN,
      MODEL_VERIFY_ALLOWANCE_TRUSTED,
      budgetTrust,
      init.syncTrustedThreshold,
    )
    this.#publicKeyHex = Buffer.from(components.publicKey).toString('hex')
    this.#peerId = peerIdFromEd25519PublicKey(components.publicKey).toString()
    const features = MODEL_FEATURE_SETS[init.features]
    this.data = new TrainingData({
      dims: features.names.length,
      perClass: init.perClass,
      validationFraction: init.validationFraction,
      benignSampleRate: init.benignSampleRate,
      labelDelayMs: init.labelDelayMs,
    })
    this.detector = new ModelDetector({
      threshold: init.detectorThreshold,
      minEvents: init.detectorMinEvents,
      windowMs: init.windowMs,
      provisionalScoreCap: init.provisionalScoreCap,
    })
    if (features.live) {
      this.detector.onWindow((w) => {
        const now = this.#clock()
        this.data.flush(now)
        this.data.observeWindow(w, now)
      })
    }
  }

  // ---- lifecycle ----

  async start(): Promise<void> {
    try {
      this.#tf = await initTensorflow({ prefer: this.init.backends })
    } catch (err) {
      // Scoring, aggregation and gating are plain JavaScript: without a backend the node still follows the
      // federation and detects with its model; it only cannot train.
      this.#log.error({ err }, 'no TensorFlow.js backend: this node will not train')
    }
    await this.#registry.open()
    const budget = await this.#settings.get(SETTINGS_BUDGET)
    if (budget !== undefined && Number(budget) > 0) this.#ledger = this.#newLedger(Number(budget))
    await this.#ledger.open()
    if (!this.init.contributing && this.#ledger.contributing) await this.#ledger.setContributing(false)
    await this.#loadCurrent()
    const { pubsub } = this.#c
    pubsub.topicValidators.set(TOPICS.models, (peer, msg) => this.#validateGossip(peer, msg))
    pubsub.subscribe(TOPICS.models)
    if (this.#c.libp2p !== undefined) {
      await serveModelSync(this.#c.libp2p, (_peer, req) => this.#answerSync(req.modelHash), {
        timeoutMs: this.init.syncTimeoutMs,
        requestsPerPeerPerMinute: this.init.syncRequestsPerPeerPerMinute,
        clock: this.#clock,
      })
    }
    this.#started = true
    this.#state = this.#ledger.contributing ? 'contributing' : 'paused'
    this.#roundClock.start((e) => this.#onRoundEvent(e))
  }

  async stop(): Promise<void> {
    this.#started = false
    this.#roundClock.stop()
    this.#c.pubsub.topicValidators.delete(TOPICS.models)
    try {
      this.#c.pubsub.unsubscribe(TOPICS.models)
    } catch {
      // pubsub may already be stopping with libp2p
    }
    try {
      await this.#c.libp2p?.unhandle(MODEL_SYNC_PROTOCOL)
    } catch {
      // libp2p may already be stopping
    }
    await this.#chain.catch(() => undefined)
  }

  get peerId(): string {
    return this.#peerId
  }

  get registry(): ModelRegistry {
    return this.#registry
  }

  get backend(): TensorflowBackend | null {
    return this.#tf?.backend ?? null
  }

  /** the adopted global model */
  get model(): MlpModel {
    if (this.#model === undefined) throw new FederationNotStartedError('federated learning is not started')
    return this.#model
  }

  get modelHash(): string {
    return this.#modelId
  }

  /** the federation's current global model hash (equal to `modelHash` unless the gate turned it down here) */
  get globalHash(): string {
    return this.#global?.id ?? this.#modelId
  }

  /** Called after every round's close with what happened (adopted, rejected, no updates, ...). */
  onAggregation(listener: (record: AggregationRecord) => void): () => void {
    this.#aggregationListeners.add(listener)
    return () => this.#aggregationListeners.delete(listener)
  }

  /** For adversarial simulations and tests only: every update this node sends goes through `transform`. */
  setUpdateTransform(transform: UpdateTransform | undefined): void {
    this.#transform = transform
  }

  // ---- rounds ----

  async #onRoundEvent(event: RoundEvent): Promise<void> {
    if (!this.#started) return
    try {
      if (event.kind === 'train') {
        await this.#serial(async () => {
          await this.#healFork(event.round)
          await this.#contribute(event.round)
        })
      } else {
        const record = await this.#serial(() => this.#close(event.round))
        for (const listener of this.#aggregationListeners) {
          try {
            listener(record)
          } catch (err) {
            this.#log.error({ err }, 'aggregation listener failed')
          }
        }
      }
    } catch (err) {
      this.#log.error({ err, round: event.round, kind: event.kind }, 'federated round step failed')
    }
  }

  /** Trains and publishes this round's update if this node contributes and can afford it. */
  async #contribute(round: number): Promise<void> {
    const model = this.#global!.model
    if (this.#tf === undefined) {
      this.#setState('paused', 'no TensorFlow.js backend could start on this host')
      return
    }
    const tf = this.#tf.tf
    if (!this.#ledger.contributing) {
      this.#setState('paused', 'contributing is switched off for this node')
      return
    }
    const training = this.data.training()
    const n = training.y.length
    const positives = training.y.reduce((a, b) => a + b, 0)
    if (n < this.init.minExamples || positives === 0 || positives === n) {
      this.#setState(
        'not-enough-data',
        `${n} training examples (${positives} attacks); need ${this.init.minExamples} with both classes`,
      )
      return
    }
    const batch = Math.min(this.init.batchSize, n)
    const params: ContributionParams = {
      round,
      sampleRate: batch / n,
      noiseMultiplier: this.init.noiseMultiplier,
      steps: Math.ceil((this.init.epochs * n) / batch),
      delta: this.init.delta,
    }
    if (!this.#ledger.canAfford(params)) {
      if (this.#state !== 'budget-exhausted') {
        this.#log.warn(
          { round, spent: this.#ledger.spent().epsilon, budget: this.#ledger.budget.epsilon },
          'privacy budget would be exceeded: no longer contributing updates (still receiving and adopting models)',
        )
      }
      this.#setState(
        'budget-exhausted',
        `another round would take epsilon past the budget of ${this.#ledger.budget.epsilon}`,
      )
      return
    }
    const baseHash = this.#global!.id
    // Reserve first: if anything later fails, the ledger over-counts, it never under-counts.
    const spent = await this.#ledger.reserve(params, this.#clock())
    this.#setState('contributing', '')
    const result = trainLocal(tf, model, training, {
      epochs: this.init.epochs,
      steps: params.steps,
      batchSize: this.init.batchSize,
      optimizer: 'sgd',
      learningRate: this.init.learningRate,
      momentum: this.init.momentum,
      // Poisson sampling is part of the privacy analysis: which examples join a batch must not be predictable.
      seed: randomInt(0, 2 ** 32 - 1),
      privacy: {
        clipNorm: this.init.clipNorm,
        noiseMultiplier: this.init.noiseMultiplier,
        delta: this.init.delta,
      },
    })
    let delta = result.delta
    if (this.#transform !== undefined) delta = this.#transform(Float32Array.from(delta))
    const record: ContributionRecord = {
      round,
      at: this.#clock(),
      examples: n,
      exampleBucket: exampleBucket(n),
      steps: result.steps,
      epsilonSpent: spent.epsilon,
      meanLoss: result.meanLoss,
      published: false,
    }
    this.#lastContribution = record
    const now = this.#clock()
    const position = this.#roundClock.position(now)
    if (position.round !== round || now > position.publishBy || this.#global!.id !== baseHash) {
      this.#log.warn(
        { round },
        'training took past the publish deadline; update not sent (the reservation stands)',
      )
      return
    }
    const shapes = this.#shapes(model)
    const encoded = encodeWeights(unflattenWeights(model.architecture, delta), shapes, this.init.encoding)
    const body: ModelUpdateBody = {
      round,
      baseHash,
      schema: schemaId(model.schema),
      encoding: this.init.encoding,
      shapes: encoded.shapes,
      data: encoded.data,
      ...(encoded.scales !== undefined ? { scales: encoded.scales } : {}),
      exampleBucket: record.exampleBucket,
      epsilonSpent: Math.min(spent.epsilon, MAX_REPORTED_EPSILON),
      delta: this.init.delta,
    }
    await this.#publish(MODEL_UPDATE_TYPE, MODEL_UPDATE_VERSION, body, this.init.roundMs)
    record.published = true
    this.counts.published++
    // Our own update joins the round exactly as peers decode it.
    this.#roundUpdates(round).set(this.#publicKeyHex, {
      sender: this.#publicKeyHex,
      peerId: this.#peerId,
      delta: flattenWeights(decodeWeights(encoded)),
      exampleBucket: record.exampleBucket,
      trust: 1,
      baseHash,
    })
    this.#log.debug({ round, examples: n, epsilon: spent.epsilon }, 'model update published')
  }

  /** Aggregates the round's updates on the current model, gates, adopts and announces. */
  async #close(round: number): Promise<AggregationRecord> {
    this.#closed.add(round)
    for (const r of this.#rounds.keys()) if (r < round) this.#rounds.delete(r)
    for (const r of this.#closed) if (r < round - 2) this.#closed.delete(r)
    const global = this.#global!
    const baseHash = global.id
    const updates = [...(this.#rounds.get(round)?.values() ?? [])].filter((u) => u.baseHash === baseHash)
    this.#rounds.delete(round)
    const record: AggregationRecord = {
      round,
      at: this.#clock(),
      outcome: 'no-updates',
      rule: this.init.rule,
      participants: [],
      baseHash,
    }
    this.#lastAggregation = record
    if (updates.length === 0) return record
    let agg: RoundAggregate
    try {
      agg = aggregateRound(
        updates.map((u) =>
          u.sender === this.#publicKeyHex || !this.init.weighUpdatesByTrust
            ? u
            : { ...u, trust: this.#trust(u.peerId) },
        ),
        this.init.rule,
        {
          trimFraction: this.init.trimFraction,
          ...(this.init.normBound !== 'none'
            ? { normBound: this.init.normBound, medianFactor: this.init.medianNormFactor }
            : {}),
        },
      )
    } catch (err) {
      record.outcome = 'failed'
      record.error = (err as Error).message
      this.#log.warn({ err, round }, 'aggregation failed')
      return record
    }
    record.appliedRule = agg.appliedRule
    record.participants = agg.participants
    const candidate = applyDelta(global.model, agg.delta)
    const id = modelHash(candidate)
    record.modelHash = id
    if (id === baseHash) {
      record.outcome = 'unchanged'
      return record
    }
    // The federation moves on whatever this node's gate says; the gate decides what this node detects with.
    this.#setGlobal(candidate, id, round)
    const { gate } = await this.#consider(candidate, id, round, 'federated', false, baseHash)
    record.gate = gate
    record.outcome = gate.decision === 'accept' ? 'adopted' : 'rejected'
    return record
  }

  /** Gate, store, and adopt when the gate says yes; announces adoptions. */
  async #consider(
    candidate: MlpModel,
    id: string,
    round: number,
    source: ModelSource,
    force = false,
    parentId: string = this.#modelId,
  ): Promise<{ gate: GateDecision; evaluation: Evaluation | undefined; adopted: boolean }> {
    const validation = this.data.validation()
    const judge = canJudge(validation, this.init)
    const current = judge ? this.#evaluateCurrent() : undefined
    const evaluation = judge ? evaluate(candidate, validation) : undefined
    const shift = judge ? undefined : this.#shift(candidate)
    let gate = gateDecision(current, evaluation, this.init, shift)
    // validated: judged on this node's own labelled data and found not worse; only then may its findings ban alone
    const validated = evaluation !== undefined && gate.decision === 'accept'
    if (force && gate.decision === 'reject')
      gate = { decision: 'accept', reason: `${FORCED_PREFIX}; ${gate.reason}` }
    const now = this.#clock()
    await this.#registry.put({
      id,
      parent: parentId && parentId !== id ? parentId : null,
      round,
      metrics: metricsRecord(evaluation),
      createdAt: now,
      source,
      weights: this.#storedWeights(candidate),
    })
    await this.#registry.recordGate(id, gate)
    this.#gates.push({ at: now, round, modelHash: id, source, ...gate })
    if (this.#gates.length > HISTORY) this.#gates.shift()
    if (gate.decision !== 'accept') {
      this.#log.warn({ round, modelHash: id, reason: gate.reason }, 'candidate model rejected by the gate')
      return { gate, evaluation, adopted: false }
    }
    const parent = parentId
    await this.#registry.adopt(id, now)
    this.#setModel(candidate, id, round, evaluation, source, validated)
    this.#log.info({ round, modelHash: id, source, reason: gate.reason }, 'model adopted')
    // A locally trained model saw this node's data without DP noise or a ledger entry: it never leaves the
    // node, neither announced nor served (see #answerSync).
    if (source !== 'local') {
      try {
        await this.#announce(parent, evaluation)
      } catch (err) {
        this.#log.warn({ err }, 'model announce not published')
      }
    }
    return { gate, evaluation, adopted: true }
  }

  /** how the candidate would move the scores of this node's own recent windows (live features only) */
  #shift(candidate: MlpModel): PredictionShift | undefined {
    if (!MODEL_FEATURE_SETS[this.init.features].live || this.#model === undefined) return undefined
    const windows = this.detector.recentFeatures(MAX_SHIFT_WINDOWS)
    return predictionShift(this.#model, candidate, windows, this.init.detectorThreshold)
  }

  /** re-evaluated every time: the validation slice changes as traffic comes in */
  #evaluateCurrent(): Evaluation | undefined {
    const validation = this.data.validation()
    return canJudge(validation, this.init) ? evaluate(this.model, validation) : undefined
  }

  #setGlobal(model: MlpModel, id: string, round: number): void {
    this.#global = { model, id, round }
    void this.#settings
      .put(SETTINGS_GLOBAL, id)
      .catch((err) => this.#log.warn({ err }, 'global model id not saved'))
  }

  #setModel(
    model: MlpModel,
    id: string,
    round: number,
    evaluation: Evaluation | undefined,
    source: ModelSource | 'evaluation',
    validated: boolean,
  ): void {
    this.#model = model
    this.#modelId = id
    this.#modelRound = round
    // a model on another schema cannot score live windows
    if (MODEL_FEATURE_SETS[this.init.features].live) this.detector.setModel(model, id, { validated })
    if (evaluation !== undefined) this.#recordPerformance(id, round, source, evaluation)
  }

  #recordPerformance(id: string, round: number, source: PerformancePoint['source'], e: Evaluation): void {
    this.#performance.push({
      at: this.#clock(),
      modelHash: id,
      round,
      source,
      precision: e.precision,
      recall: e.recall,
      f1: e.f1,
      rocAuc: Number.isFinite(e.rocAuc) ? e.rocAuc : null,
      fpr: e.fpr,
      loss: e.loss,
      n: e.n,
    })
    if (this.#performance.length > HISTORY) this.#performance.shift()
  }

  async #announce(parent: string, evaluation: Evaluation | undefined): Promise<void> {
    const body: ModelAnnounceBody = {
      modelHash: this.#modelId,
      parentHash: parent && parent !== this.#modelId ? parent : null,
      round: this.#modelRound,
      schema: schemaId(this.model.schema),
      metrics: metricsRecord(evaluation),
    }
    await this.#publish(MODEL_ANNOUNCE_TYPE, MODEL_ANNOUNCE_VERSION, body, ANNOUNCE_TTL_MS)
    this.counts.announced++
  }

  async #publish(type: string, version: number, body: unknown, ttlMs: number): Promise<void> {
    const now = this.#clock()
    const seq = await this.#c.sequence.next(now)
    const bytes = encodeEnvelope(
      sealEnvelope(
        { type, version, sender: this.#c.publicKey, seq, createdAt: now, expiresAt: now + ttlMs, body },
        this.#c.secretKey,
      ),
    )
    if (bytes.length > this.init.maxMessageBytes) {
      throw new FederationMessageTooLargeError(
        `${type} of ${bytes.length} bytes > ${this.init.maxMessageBytes}`,
      )
    }
    await this.#c.pubsub.publish(TOPICS.models, bytes)
  }

  // ---- intake ----

  /**
   * Judges wire bytes from the models topic; accepted updates join their round. Shared by gossip and tests.
   * Cheapest first, the signature last (issue 15): the forwarding peer's judging budget (before decoding), size,
   * decoding, type, times, schema, the sender's rate, then everything this node's own state can refuse (round,
   * base, architecture, a second update, a full round), then the forwarding peer's verification budget, and only
   * then the Ed25519 signature. An update's weights are decoded only once it is proven genuine and wanted.
   * `peer` is the forwarding peer on the gossip path; without one (tests, tools) no budget applies.
   */
  intake(bytes: Uint8Array, peer?: string): ModelVerdict {
    const now = this.#clock()
    if (peer !== undefined) {
      const judged = this.#judgeBudget.take(peer, now)
      if (judged === 'flood')
        return this.#count(refuse('flood', 'far more model messages than allowed', peer))
      if (judged !== 'ok')
        return this.#count(refuse('over_budget', 'more model messages than allowed now', peer))
    }
    const limits = {
      maxBytes: this.init.maxMessageBytes,
      maxClockSkewMs: this.init.maxClockSkewMs,
      maxTtlMs: MAX_TTL_MS,
    }
    const header = checkHeader(bytes, TOPIC_MESSAGES[TOPICS.models], now, limits)
    if (!isUnverified(header)) return this.#count(header as Refusal)
    const checked = checkBody(header, limits)
    if (!isUnverified(checked)) return this.#count(checked as Refusal)
    const envelope = checked.envelope
    const sender = Buffer.from(envelope.sender).toString('hex')
    const peerId = peerIdFromEd25519PublicKey(envelope.sender).toString()
    const fresh = checkFreshness(
      envelope,
      { seen: false, recentFromSender: this.#limiter.recent(sender, now) },
      { maxPerSenderPerMinute: this.init.maxPerSenderPerMinute },
    )
    if (fresh.action !== 'accept') return this.#count({ ...fresh, peerId })
    const isUpdate = envelope.type === MODEL_UPDATE_TYPE
    const refused = isUpdate
      ? this.#refuseUpdate(envelope as Envelope<ModelUpdateBody>, sender, peerId, now)
      : this.#refuseAnnounce(envelope as Envelope<ModelAnnounceBody>, peerId, now)
    if (refused !== undefined) return this.#count(refused)
    if (peer !== undefined) {
      // past this budget the message is only dropped: the judging budget and the sender's rate bound floods
      const verifying = this.#verifyBudget.take(peer, now)
      if (verifying !== 'ok') {
        return this.#count(refuse('over_budget', 'more signatures than this peer is allowed now', peer))
      }
    }
    this.counts.verified++
    const signed = checkSignature(checked)
    if (signed.action !== 'accept') return this.#count({ ...(signed as Refusal), peerId })
    // only a genuine message is charged to the sender it names: a forgery never spends an honest sender's rate
    this.#limiter.record(sender, now)
    const result = isUpdate
      ? this.#acceptUpdate(envelope as Envelope<ModelUpdateBody>, sender, peerId, now)
      : this.#acceptAnnounce(envelope as Envelope<ModelAnnounceBody>, peerId, now)
    return this.#count(result)
  }

  /** What this node's state refuses an update for, before its signature is checked; undefined if nothing. */
  #refuseUpdate(
    envelope: Envelope<ModelUpdateBody>,
    sender: string,
    peerId: string,
    now: number,
  ): ModelVerdict | undefined {
    const body = envelope.body
    const model = this.#global?.model
    const globalId = this.#global?.id ?? ''
    if (model === undefined) return refuse('wrong_round', 'not started', peerId)
    if (body.schema !== schemaId(model.schema)) {
      return refuse('schema_mismatch', `features ${body.schema}, ours ${schemaId(model.schema)}`, peerId)
    }
    const shapes = this.#shapes(model)
    if (JSON.stringify(body.shapes) !== JSON.stringify(shapes)) {
      return refuse('shape_mismatch', 'a different model architecture', peerId)
    }
    // The current round while it collects; the next one once ours is closed (a peer whose clock runs a little
    // ahead may train before we reach it).
    const position = this.#roundClock.position(now)
    const closed = this.#closed.has(position.round) || position.phase === 'closed'
    const open = (body.round === position.round && !closed) || (body.round === position.round + 1 && closed)
    if (!open) return refuse('wrong_round', `round ${body.round}, collecting ${position.round}`, peerId)
    if (body.baseHash !== globalId) {
      return refuse(
        'base_mismatch',
        `based on ${body.baseHash.slice(0, 12)}, ours ${globalId.slice(0, 12)}`,
        peerId,
      )
    }
    const updates = this.#roundUpdates(body.round)
    if (updates.has(sender)) return refuse('duplicate', `a second update for round ${body.round}`, peerId)
    if (updates.size >= this.init.maxParticipants)
      return refuse('round_full', `${updates.size} updates`, peerId)
    return undefined
  }

  /** A genuine update the round wants: decoded (which copies every parameter) and joined to its round. */
  #acceptUpdate(
    envelope: Envelope<ModelUpdateBody>,
    sender: string,
    peerId: string,
    now: number,
  ): ModelVerdict {
    const body = envelope.body
    let delta: Float32Array
    try {
      delta = flattenWeights(decodeWeights(body as EncodedWeights))
    } catch (err) {
      return refuse('non_finite', (err as Error).message, peerId)
    }
    for (let i = 0; i < delta.length; i++) {
      if (!Number.isFinite(delta[i])) return refuse('non_finite', `parameter ${i} is ${delta[i]}`, peerId)
    }
    this.#roundUpdates(body.round).set(sender, {
      sender,
      peerId,
      delta,
      exampleBucket: body.exampleBucket,
      trust: 1,
      baseHash: body.baseHash,
    })
    const peer = this.#peer(peerId)
    peer.lastRound = body.round
    peer.lastUpdateAt = now
    return { action: 'accept', kind: 'update', peerId }
  }

  /** An announce whose round does not fit the clock is refused before its signature is checked. */
  #refuseAnnounce(
    envelope: Envelope<ModelAnnounceBody>,
    peerId: string,
    now: number,
  ): ModelVerdict | undefined {
    const body = envelope.body
    // a round ahead of the clock would stay "latest" and "recent" for ever
    if (!this.#roundClock.fits(body.round, now)) {
      return refuse(
        'wrong_round',
        `announces round ${body.round}, the clock is at ${this.#roundClock.position(now).round}`,
        peerId,
      )
    }
    return undefined
  }

  #acceptAnnounce(envelope: Envelope<ModelAnnounceBody>, peerId: string, now: number): ModelVerdict {
    const body = envelope.body
    const peer = this.#peer(peerId)
    if (peer.lastAnnounce === null || body.round >= peer.lastAnnounce.round) {
      peer.lastAnnounce = { modelHash: body.modelHash, round: body.round, at: now }
    }
    return { action: 'accept', kind: 'announce', peerId }
  }

  #count(
    v:
      | ModelVerdict
      | { action: 'reject' | 'ignore'; reason: ValidationReason; detail: string; peerId?: string },
  ): ModelVerdict {
    if (v.action === 'accept') {
      this.counts.accepted++
      if (v.peerId !== this.#peerId) this.#peer(v.peerId).accepted++
      return v
    }
    const bucket = v.action === 'reject' ? this.counts.rejected : this.counts.ignored
    bucket[v.reason] = (bucket[v.reason] ?? 0) + 1
    if (v.peerId !== undefined && v.peerId !== this.#peerId) {
      const peer = this.#peer(v.peerId)
      if (v.action === 'reject') peer.rejected++
      else peer.ignored++
    }
    return v
  }

  #validateGossip(peer: PeerId, msg: Message): TopicValidatorResult {
    try {
      const verdict = this.intake(msg.data, peer.toString())
      if (verdict.action === 'accept') return TopicValidatorResult.Accept
      this.#log.debug(
        { peer: peer.toString(), reason: verdict.reason, detail: verdict.detail },
        `model message ${verdict.action}ed`,
      )
      return verdict.action === 'reject' ? TopicValidatorResult.Reject : TopicValidatorResult.Ignore
    } catch (err) {
      this.#log.error({ err }, 'model message intake failed')
      return TopicValidatorResult.Ignore
    }
  }

  #peer(peerId: string): PeerStats {
    let p = this.#peers.get(peerId)
    if (p === undefined) {
      p = {
        peerId,
        lastRound: null,
        lastUpdateAt: null,
        accepted: 0,
        rejected: 0,
        ignored: 0,
        lastAnnounce: null,
      }
      this.#peers.set(peerId, p)
      if (this.#peers.size > MAX_PEERS) this.#forgetOnePeer()
    }
    return p
  }

  /**
   * Forgets the oldest untrusted peer (the oldest of all when every one is trusted): a flood of fresh identities
   * must not push out the trusted peers whose announces fork healing listens to.
   */
  #forgetOnePeer(): void {
    let victim: string | undefined
    for (const id of this.#peers.keys()) {
      victim ??= id
      if (this.#trust(id) < this.init.syncTrustedThreshold) {
        victim = id
        break
      }
    }
    if (victim !== undefined) this.#peers.delete(victim)
  }

  #roundUpdates(round: number): Map<string, ReceivedUpdate> {
    let m = this.#rounds.get(round)
    if (m === undefined) {
      m = new Map()
      this.#rounds.set(round, m)
    }
    return m
  }

  #trust(peerId: string): number {
    try {
      const t = this.#c.trustOf?.(peerId) ?? 1
      return Number.isFinite(t) ? Math.min(1, Math.max(0, t)) : 0
    } catch {
      return 0
    }
  }

  // ---- models ----

  async #loadCurrent(): Promise<void> {
    const current = await this.#registry.current()
    if (current !== undefined) {
      const model = this.#modelFromWeights(current.weights)
      if (model !== undefined && modelHash(model) === current.id) {
        this.#setModel(model, current.id, current.round, undefined, 'evaluation', validatedHere(current))
        this.#global = { model, id: current.id, round: current.round }
        const globalId = await this.#settings.get(SETTINGS_GLOBAL)
        const global = globalId === undefined ? undefined : await this.#registry.get(globalId)
        const globalModel = global === undefined ? undefined : this.#modelFromWeights(global.weights)
        if (global !== undefined && globalModel !== undefined && modelHash(globalModel) === global.id) {
          this.#global = { model: globalModel, id: global.id, round: global.round }
        }
        return
      }
      this.#log.warn(
        { modelHash: current.id },
        'the stored model does not fit the configured architecture; starting over',
      )
    }
    const initial = this.#initialModel()
    const id = modelHash(initial)
    const round = this.#roundClock.position().round
    await this.#registry.put({
      id,
      parent: null,
      round,
      metrics: {},
      createdAt: this.#clock(),
      source: 'initial',
      weights: this.#storedWeights(initial),
      gate: { decision: 'accept', reason: 'the initial model every node derives from the same seed' },
    })
    await this.#registry.adopt(id, this.#clock())
    // a random start, checked against nothing: provisional like any model not validated here
    this.#setModel(initial, id, round, undefined, 'initial', false)
    this.#setGlobal(initial, id, round)
  }

  #initialModel(): MlpModel {
    const features = MODEL_FEATURE_SETS[this.init.features]
    return createMlp({
      schema: features.schema,
      featureNames: features.names,
      hidden: this.init.hidden,
      seed: this.init.modelSeed,
    })
  }

  #shapes(model: MlpModel = this.model): number[][] {
    return layerShapes(model.architecture).flatMap(([i, o]) => [[i, o], [o]])
  }

  #storedWeights(model: MlpModel): EncodedWeights {
    return encodeWeights(model.weights, this.#shapes(model), 'f32')
  }

  /** the configured architecture with these weights, or undefined when they do not fit it */
  #modelFromWeights(weights: EncodedWeights): MlpModel | undefined {
    try {
      const template = this.#model ?? this.#initialModel()
      const shapes = layerShapes(template.architecture).flatMap(([i, o]) => [[i, o], [o]])
      if (JSON.stringify(weights.shapes) !== JSON.stringify(shapes)) return undefined
      return { ...template, weights: decodeWeights(weights) }
    } catch {
      return undefined
    }
  }

  // ---- operator actions (API) ----

  /** Trains on local data only (no DP: nothing leaves the node) and adopts the result if the gate passes. */
  trainNow(opts: { epochs?: number; learningRate?: number } = {}) {
    return this.#serial(async () => {
      const training = this.data.training()
      if (training.y.length === 0) throw new NotEnoughDataError('no training examples yet')
      if (this.#tf === undefined)
        throw new NotEnoughDataError('no TensorFlow.js backend could start on this host')
      const result = trainLocal(this.#tf.tf, this.model, training, {
        epochs: opts.epochs ?? Math.max(1, this.init.epochs),
        batchSize: this.init.batchSize,
        optimizer: 'sgd',
        learningRate: opts.learningRate ?? this.init.learningRate,
        momentum: this.init.momentum,
        seed: randomInt(0, 2 ** 32 - 1),
      })
      const id = modelHash(result.model)
      const { gate, evaluation, adopted } = await this.#consider(result.model, id, this.#modelRound, 'local')
      return {
        modelHash: id,
        adopted,
        gate,
        metrics: metricsRecord(evaluation),
        examples: result.examples,
        steps: result.steps,
      }
    })
  }

  rollback(id: string): Promise<ModelVersion> {
    return this.#serial(async () => {
      const version = await this.#registry.rollback(id, this.#clock())
      const model = this.#modelFromWeights(version.weights)
      if (model === undefined)
        throw new FederationMismatchError(`model ${id} does not fit the configured architecture`)
      this.#setModel(model, version.id, version.round, undefined, 'evaluation', validatedHere(version))
      return version
    })
  }

  /**
   * Asks up to `syncMaxPeers` peers on the models topic (the most trusted first) for their current model, drops
   * answers whose round does not fit the round clock, verifies the rest by their hash, and weighs them by trust
   * (`weighVotes`): the federation's model is the one trusted peers agree on, never the one most identities name. A
   * model this node adopted itself before needs no one's word. The gate still applies unless `force`; forced in
   * without agreement, a model changes what this node detects with but not the chain it trains on.
   */
  sync(opts: { force?: boolean; maxPeers?: number } = {}) {
    return this.#serial(() => this.#sync(opts))
  }

  get #agreementPolicy(): AgreementPolicy {
    return {
      trustedThreshold: this.init.syncTrustedThreshold,
      untrustedCap: this.init.syncUntrustedCap,
      minSupport: this.init.syncMinSupport,
    }
  }

  /**
   * A node that missed a round's updates or whose gate said no holds a model the rest no longer builds on. When the
   * peers it trusts announced another model lately (weighed like sync answers, rounds that fit the clock only),
   * fetch it (gated) before training on a dead base.
   */
  async #healFork(round: number): Promise<void> {
    if (this.#c.libp2p === undefined) return
    const now = this.#clock()
    const votes = []
    for (const p of this.#peers.values()) {
      const a = p.lastAnnounce
      if (a === null || a.round < round - 2 || !this.#roundClock.fits(a.round, now)) continue
      votes.push({
        peerId: p.peerId,
        trust: this.#trust(p.peerId),
        modelHash: a.modelHash,
        round: a.round,
        value: null,
      })
    }
    const { agreed, reason } = weighVotes(votes, this.#agreementPolicy)
    if (agreed === undefined || agreed.modelHash === this.globalHash || agreed.modelHash === this.#modelId)
      return
    this.#log.info(
      { round, ours: this.globalHash, theirs: agreed.modelHash, reason },
      'forked from the federation; syncing',
    )
    const result = await this.#sync({})
    this.#log.info({ outcome: result.outcome, modelHash: result.modelHash }, 'fork sync done')
  }

  async #sync(opts: { force?: boolean; maxPeers?: number }) {
    const libp2p = this.#c.libp2p
    if (libp2p === undefined) throw new FederationNotStartedError('model sync needs libp2p')
    const now = this.#clock()
    const limit = Math.max(1, Math.min(opts.maxPeers ?? this.init.syncMaxPeers, this.init.syncMaxPeers))
    const peers = this.#c.pubsub
      .getSubscribers(TOPICS.models)
      .map((peer) => ({ peer, trust: this.#trust(peer.toString()) }))
      .filter((p) => p.trust > 0)
      .sort((a, b) => b.trust - a.trust)
      .slice(0, limit)
    let misfit = 0
    const answers = await Promise.all(
      peers.map(async ({ peer, trust }) => {
        try {
          const r = await fetchModel(libp2p, peer, {}, this.init.syncTimeoutMs)
          // the cheap check first: a round from the future is a lie, whatever the weights hash to
          if (!this.#roundClock.fits(r.round, now)) {
            misfit++
            return undefined
          }
          const model = this.#verifySynced(r)
          if (model === undefined) return undefined
          return { peerId: peer.toString(), trust, modelHash: r.modelHash, round: r.round, value: model }
        } catch (err) {
          this.#log.debug({ err, peer: peer.toString() }, 'model sync from peer failed')
          return undefined
        }
      }),
    )
    const votes = answers.filter((a) => a !== undefined)
    const agreement = weighVotes(votes, this.#agreementPolicy)
    const base = {
      asked: peers.length,
      answered: votes.length,
      /** answers dropped because their round does not fit this node's round clock */
      misfit,
      candidates: agreement.ranked.map((c) => ({
        modelHash: c.modelHash,
        peers: c.peers.length,
        trustedPeers: c.trustedVoices,
        support: Math.round(c.support * 1000) / 1000,
        round: c.round,
      })),
      agreement: agreement.reason,
    }
    if (agreement.ranked.length === 0)
      return { ...base, outcome: 'no-answers' as const, modelHash: this.globalHash }
    let chosen = agreement.agreed
    let onChain = chosen !== undefined
    if (chosen === undefined) {
      // one this node adopted itself before (say, before a rollback) is verified by this node's own history
      for (const c of agreement.ranked) {
        if ((await this.#registry.get(c.modelHash))?.adoptedAt !== undefined) {
          chosen = c
          onChain = true
          break
        }
      }
    }
    if (chosen === undefined && opts.force === true) chosen = agreement.ranked[0]
    if (chosen === undefined) return { ...base, outcome: 'no-agreement' as const, modelHash: this.globalHash }
    const hash = chosen.modelHash
    const previousGlobal = this.globalHash
    if (onChain && hash !== previousGlobal) this.#setGlobal(chosen.value, hash, chosen.round)
    if (hash === this.#modelId) return { ...base, outcome: 'up-to-date' as const, modelHash: hash }
    const { gate, adopted } = await this.#consider(
      chosen.value,
      hash,
      chosen.round,
      'federated',
      opts.force === true,
      previousGlobal,
    )
    return {
      ...base,
      outcome: adopted ? ('adopted' as const) : ('rejected' as const),
      modelHash: hash,
      gate,
    }
  }

  #verifySynced(r: ModelSyncResponse): MlpModel | undefined {
    const model = this.#modelFromWeights({ encoding: 'f32', shapes: r.shapes, data: r.data })
    if (model === undefined || r.schema !== schemaId(model.schema)) return undefined
    return modelHash(model) === r.modelHash ? model : undefined
  }

  async #answerSync(
    wanted: string | undefined,
  ): Promise<ModelSyncResponse | { error: 'not_found'; message: string }> {
    const version = await this.#registry.get(wanted ?? this.globalHash)
    // local (non-private) models are this node's alone: to a peer they do not exist
    if (version === undefined || version.source === 'local')
      return { error: 'not_found', message: 'no such model here' }
    return {
      modelHash: version.id,
      parentHash: version.parent,
      round: version.round,
      schema: schemaId(this.model.schema),
      shapes: version.weights.shapes,
      data: version.weights.data,
    }
  }

  async setContributing(on: boolean): Promise<void> {
    await this.#ledger.setContributing(on)
    this.#setState(on ? 'contributing' : 'paused', on ? '' : 'contributing is switched off for this node')
  }

  /** Replaces the lifetime epsilon budget (persisted). Spending so far stays as it is. */
  setBudget(epsilon: number): Promise<void> {
    return this.#serial(async () => {
      const ledger = this.#newLedger(epsilon)
      await ledger.open()
      await this.#settings.put(SETTINGS_BUDGET, String(epsilon))
      this.#ledger = ledger
      if (this.#state === 'budget-exhausted')
        this.#setState(ledger.contributing ? 'contributing' : 'paused', '')
    })
  }

  predict(features: ArrayLike<number>) {
    const model = this.model
    assertVector(features, model.architecture.inputDim)
    return predictOne(model, features)
  }

  // ---- views ----

  status() {
    const position = this.#roundClock.position()
    const spent = this.#ledger.spent().epsilon
    const budget = this.#ledger.budget.epsilon
    const last = this.#lastAggregation
    return {
      enabled: true,
      backend: this.backend,
      peerId: this.#peerId,
      round: position.round,
      phase: position.phase as RoundPhase,
      roundMs: this.init.roundMs,
      nextCloseAt: position.closeAt,
      rule: this.init.rule,
      /** the model this node detects with */
      modelHash: this.#modelId,
      modelRound: this.#modelRound,
      /** not yet validated on this node's labelled data: its findings are capped and cannot ban on their own */
      modelProvisional: this.detector.provisional,
      /** the federation's model this node trains on (differs when its gate turned a round down) */
      globalHash: this.globalHash,
      parameters: parameterCount(this.model.architecture),
      contributing: this.#ledger.contributing && this.#state === 'contributing',
      contributionState: this.#state,
      contributionDetail: this.#stateDetail,
      epsilonSpent: spent,
      epsilonBudget: budget,
      epsilonLeft: Math.max(0, budget - spent),
      delta: this.#ledger.budget.delta,
      participantsLastRound: last?.participants.length ?? 0,
      lastAggregation: last ?? null,
      lastContribution: this.#lastContribution ?? null,
      gateDecisions: this.#gates.slice(-20),
      data: this.data.counts(),
      counts: this.counts,
    }
  }

  peers(): Array<PeerStats & { trust: number }> {
    return [...this.#peers.values()].map((p) => ({ ...p, trust: this.#trust(p.peerId) }))
  }

  performance() {
    const validation = this.data.validation()
    const current = canJudge(validation, this.init) ? evaluate(this.model, validation) : undefined
    return {
      modelHash: this.#modelId,
      current: current === undefined ? null : { ...metricsRecord(current), n: current.n },
      history: [...this.#performance],
    }
  }

  #setState(state: ContributionState, detail: string): void {
    this.#state = state
    this.#stateDetail = detail
  }

  #newLedger(epsilon: number): PrivacyLedger {
    return new PrivacyLedger(this.#c.store, {
      budget: { epsilon, delta: this.init.delta },
      contributingByDefault: this.init.contributing,
    })
  }

  #serial<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#chain.then(task)
    this.#chain = result.catch(() => undefined)
    return result
  }
}

export class FederationMessageTooLargeError extends Error {
  override name = 'FederationMessageTooLargeError'
}

export class FederationMismatchError extends Error {
  override name = 'FederationMismatchError'
}

/** what the envelope validator answers when it does not accept */
type Refusal = { action: 'reject' | 'ignore'; reason: ValidationReason; detail: string }

function refuse(reason: ModelValidationReason, detail: string, peerId: string): ModelVerdict {
  const action =
    reason in FEDERATION_REASONS
      ? FEDERATION_REASONS[reason as FederationReason]
      : VALIDATION_REASONS[reason as ValidationReason]
  return { action, reason, detail, peerId }
}

function assertVector(x: ArrayLike<number>, dims: number): void {
  if (x.length !== dims)
    throw new InvalidFeatureVectorError(`the model takes ${dims} features, got ${x.length}`)
  for (let i = 0; i < x.length; i++) {
    if (typeof x[i] !== 'number' || !Number.isFinite(x[i])) {
      throw new InvalidFeatureVectorError(`feature ${i} is not a finite number`)
    }
  }
}

export function federation(
  init: Partial<FederationInit> = {},
): (components: FederationComponents) => FederationService {
  const merged: FederationInit = {
    ...DEFAULT_FEDERATION_INIT,
    ...(Object.fromEntries(
      Object.entries(init).filter(([, v]) => v !== undefined),
    ) as Partial<FederationInit>),
  }
  return (components) => new FederationService(merged, components)
}
