import { homedir } from 'node:os'
import { isAbsolute, join } from 'node:path'
import * as z from 'zod'
import { parseIndicator } from '../protocol/indicator.ts'
import { FORMATS } from '../node/ingest/parsers/index.ts'
import { AGGREGATION_RULES } from '../node/learning/aggregation/aggregate.ts'
import { MODEL_FEATURES } from '../node/learning/federation/model-features.ts'
import { MAX_MODEL_MESSAGE_BYTES } from '../protocol/messages/model-update.ts'
import { multiaddr as parseMultiaddr } from '@multiformats/multiaddr'
import { ed25519PeerIdProblem } from '../crypto/identity/peer-id.ts'
import { MIN_API_TOKEN_LENGTH } from '../node/api/api-token.ts'
import { HTTP_SCENARIOS } from '../node/detect/scenarios/http-scenarios.ts'
import { SSH_SCENARIOS } from '../node/detect/scenarios/ssh-scenarios.ts'

/** Names `detect.scenarios` may override: the built-in scenarios (node/detect/scenarios/). */
const SCENARIO_NAMES: readonly string[] = [...SSH_SCENARIOS, ...HTTP_SCENARIOS].map((s) => s.name)

// Every object is strict so a typo in a key is an error instead of a silently ignored setting, and every
// field has a default (or is optional) so `{}` parses to a complete config. Sections use `.prefault({})`
// rather than `.default({})`: zod returns a `.default()` value as-is, while a prefault is parsed, so the
// section's own field defaults apply.
//
// To add a section: define `FooSchema` (a z.strictObject whose fields all have defaults) and add
// `foo: FooSchema.prefault({})` to ShieldwallConfigSchema. Env vars (SHIELDWALL_FOO_*), CLI coercion and
// error messages are all derived from the schema.

/** Whole numbers in a range; one message for every failure (wrong type, fraction, out of range). */
function int(min: number, max?: number) {
  const expected = max === undefined ? `an integer of at least ${min}` : `an integer from ${min} to ${max}`
  const schema = z.int({ error: expected }).min(min, { error: expected })
  return max === undefined ? schema : schema.max(max, { error: expected })
}

/** A probability or confidence. */
function fraction() {
  const expected = 'a number from 0 to 1'
  return z.number({ error: expected }).min(0, { error: expected }).max(1, { error: expected })
}

const multiaddr = z
  .string()
  .startsWith('/', { error: 'a multiaddr starting with "/", e.g. /ip4/0.0.0.0/tcp/7421' })

// A bootstrap peer must name its peer id, otherwise the dial cannot be authenticated; the address is parsed
// here so a garbled one is a config error naming the key, not a listen failure at start.
const peerMultiaddr = multiaddr
  .includes('/p2p/', {
    error: 'a multiaddr with a peer id, e.g. /dns4/boot.example.org/tcp/7421/p2p/12D3KooW...',
  })
  .superRefine((text, ctx) => {
    if (!text.includes('/p2p/')) return // said above
    let peer: string | undefined
    try {
      peer = parseMultiaddr(text)
        .getComponents()
        .findLast((c) => c.name === 'p2p')?.value
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `a valid multiaddr (${(err as Error).message})` })
      return
    }
    const problem = peer === undefined ? 'no /p2p/ component' : ed25519PeerIdProblem(peer)
    if (problem !== undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `a multiaddr ending in an Ed25519 peer id (12D3KooW...): ${problem}`,
      })
    }
  })

/** A peer id an operator writes down: every shieldwall identity is Ed25519 (the peers API uses the same check). */
const peerId = z.string().superRefine((text, ctx) => {
  const problem = ed25519PeerIdProblem(text)
  if (problem !== undefined)
    ctx.addIssue({ code: 'custom', message: `an Ed25519 peer id (12D3KooW...): ${problem}` })
})

/** `$XDG_DATA_HOME/shieldwall`, else `~/.local/share/shieldwall`; the XDG spec says to ignore a relative value. */
export function defaultDataDir(env: Record<string, string | undefined> = process.env): string {
  const xdg = env.XDG_DATA_HOME
  const base = xdg !== undefined && isAbsolute(xdg) ? xdg : join(homedir(), '.local', 'share')
  return join(base, 'shieldwall')
}

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

export const LogSchema = z.strictObject({
  level: z.enum(LOG_LEVELS).default('info'),
})

export const ApiSchema = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  port: int(0, 65535).default(7420),
  // secret: error messages print "[redacted]" instead of the value
  token: z.string().min(MIN_API_TOKEN_LENGTH).meta({ secret: true }).optional(),
  enabled: z.boolean().default(true),
  // Long answers (SSE change stream, CrowdSec startup pulls, whole-list queries); node/bouncer/stream-gate.ts
  streams: z
    .strictObject({
      maxPerToken: int(1, 10_000).default(8),
      maxTotal: int(1, 100_000).default(64),
      // unsent bytes the server holds per connection before waiting for the client to read
      bufferBytes: int(131_072, 16_777_216).default(262_144),
      // a client that leaves its output unread this long is disconnected
      stallSeconds: int(1, 86_400).default(60),
    })
    .prefault({}),
})

export const P2pSchema = z.strictObject({
  // factories, so no two parsed configs share (and can mutate) one default array
  listen: z.array(multiaddr).default(() => ['/ip4/0.0.0.0/tcp/7421']),
  announce: z.array(multiaddr).default(() => []),
  bootstrap: z.array(peerMultiaddr).default(() => []),
  dht: z
    .strictObject({
      enabled: z.boolean().default(true),
      protocolPrefix: z
        .string()
        .startsWith('/', { error: 'a protocol prefix starting with "/"' })
        .default('/shieldwall'),
    })
    .prefault({}),
  maxConnections: int(1).default(200),
})

export const AlertsSchema = z
  .strictObject({
    defaultTtlSeconds: int(1).default(86_400),
    maxTtlSeconds: int(1).default(2_592_000),
    // beyond an hour, replayed or stale alerts would pass as fresh
    maxClockSkewSeconds: int(0, 3600).default(30),
    maxPerSenderPerMinute: int(1).default(120),
    maxMessageBytes: int(256, 1_048_576).default(16_384),
    /** alerts kept on disk at most; past it the least trusted senders' oldest go first, this node's never */
    maxStored: int(1000).default(200_000),
  })
  .superRefine((alerts, ctx) => {
    // Reported on the key the operator most likely changed; the message carries the limit it broke.
    if (alerts.defaultTtlSeconds > alerts.maxTtlSeconds) {
      ctx.addIssue({
        code: 'custom',
        path: ['defaultTtlSeconds'],
        input: alerts.defaultTtlSeconds,
        message: `at most alerts.maxTtlSeconds (${alerts.maxTtlSeconds})`,
      })
    }
  })

// Log formats the ingest parsers understand, plus `auto` (sniffed from the first lines of the file).
export const SOURCE_FORMATS = ['auto', ...FORMATS] as const

export const SourceSchema = z.strictObject({
  path: z.string().min(1, { error: 'a path to a log file' }),
  format: z.enum(SOURCE_FORMATS, { error: `one of ${SOURCE_FORMATS.join(', ')}` }).default('auto'),
  // A new file is read from its end like `tail -F`: history is for `shieldwall detect`, not for live bans.
  startAt: z.enum(['end', 'beginning']).default('end'),
  /** syslog lines carry no time zone: minutes east of UTC of the logging host (default UTC) */
  utcOffsetMinutes: z
    .int()
    .min(-14 * 60)
    .max(14 * 60)
    .optional(),
})

export const ScenarioParamsSchema = z.strictObject({
  enabled: z.boolean().optional(),
  capacity: int(0).optional(),
  leakSeconds: z.number().positive({ error: 'a positive number of seconds' }).optional(),
  banSeconds: int(1).optional(),
  confidence: fraction().optional(),
})

export const DetectSchema = z.strictObject({
  /** combined confidence at which findings become a decision (ban) */
  threshold: fraction().default(0.7),
  /** per-address state is capped; the least recently seen address is forgotten first */
  maxTrackedIps: int(1000).default(200_000),
  /** overrides of the built-in scenarios by name, e.g. { "ssh-bf": { "capacity": 3 } } */
  scenarios: z
    .record(z.string(), ScenarioParamsSchema)
    .superRefine((overrides, ctx) => {
      // a typo (`ssh-bff`) would otherwise override nothing and start silently
      for (const name of Object.keys(overrides)) {
        if (SCENARIO_NAMES.includes(name)) continue
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: `one of the built-in scenarios: ${SCENARIO_NAMES.join(', ')}`,
          params: { unknownKey: true },
        })
      }
    })
    .default(() => ({})),
  /** repeat offenders: each new decision multiplies the ban by this factor... */
  banGrowthFactor: z.number().min(1).default(2),
  /** ...up to this long */
  maxBanSeconds: int(60).default(7 * 24 * 3600),
  anomaly: z
    .strictObject({
      enabled: z.boolean().default(true),
      threshold: fraction().default(0.65),
    })
    .prefault({}),
  stats: z.strictObject({ enabled: z.boolean().default(true) }).prefault({}),
  /**
   * Share sightings: an address that fills a scenario's bucket to `fraction` of its capacity without banning
   * is reported to the network at low confidence, so an attack spread thin over many nodes is still seen.
   */
  sightings: z
    .strictObject({ enabled: z.boolean().default(true), fraction: fraction().default(0.5) })
    .prefault({}),
  /** publish each local decision to the network as a signed alert */
  publishAlerts: z.boolean().default(true),
})

// Federated learning of the window model (node/learning/federation/). Rounds run on a schedule every node
// derives from its clock; see docs/architecture.md.
export const LearningSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** length of a federated round; every node of a federation must use the same value */
  roundMs: int(100).default(600_000),
  /** when round 0 started (ms since the Unix epoch); the same on every node */
  epochMs: int(0).default(0),
  /** share of the round at which nodes train and publish, and at which collection closes */
  trainFraction: fraction().default(0.05),
  closeFraction: fraction().default(0.8),
  aggregation: z
    .strictObject({
      rule: z.enum(AGGREGATION_RULES).default('median'),
      trimFraction: z.number().min(0).max(0.49).default(0.25),
      /** bound each update's L2 norm first: a number, `median` (adaptive) or `none` */
      normBound: z.union([z.literal('median'), z.literal('none'), z.number().positive()]).default('median'),
      medianNormFactor: z.number().min(1).default(2),
    })
    .prefault({}),
  /** how updates travel: f16 (~2 bytes a parameter) or i8 (1 byte, coarser) */
  encoding: z.enum(['f16', 'i8']).default('f16'),
  model: z
    .strictObject({
      /** the model's inputs: `window` (live traffic) or `nsl-kdd` (the simulator's benchmark federation) */
      features: z.enum(MODEL_FEATURES).default('window'),
      hidden: z
        .array(int(1, 1024))
        .min(1)
        .max(4)
        .default(() => [64, 32]),
      seed: int(0).default(0x5eed),
    })
    .prefault({}),
  training: z
    .strictObject({
      epochs: z.number().positive().max(100).default(1),
      batchSize: int(1).default(64),
      learningRate: z.number().positive().default(0.1),
      momentum: z.number().min(0).max(0.99).default(0.5),
      /** training examples (both classes) needed before the node contributes */
      minExamples: int(1).default(64),
    })
    .prefault({}),
  privacy: z
    .strictObject({
      contributing: z.boolean().default(true),
      /** lifetime epsilon this node may spend on its updates; past it the node only receives models */
      epsilonBudget: z.number().positive().default(10),
      delta: z.number().gt(0).lt(1).default(1e-5),
      clipNorm: z.number().positive().default(1),
      noiseMultiplier: z.number().min(0.3).default(1.1),
    })
    .prefault({}),
  gate: z
    .strictObject({
      f1Margin: fraction().default(0.05),
      lossMargin: z.number().min(0).default(0.15),
      minValidation: int(1).default(20),
      /** with too little labelled data: refuse a model that flips more than this share of recent windows' flags */
      maxFlipShare: fraction().default(0.2),
      /** ... or moves their scores by more than this on average */
      maxMeanShift: fraction().default(0.35),
      /** ... judged on at least this many recent windows (fewer: adopted provisionally) */
      minShiftWindows: int(1).default(10),
    })
    .prefault({}),
  /** model sync and fork healing follow peers by trust, never by how many identities answer */
  sync: z
    .strictObject({
      /** peers asked per sync, the most trusted first */
      maxPeers: int(1, 64).default(8),
      /** peers trusted at least this much are trusted voices */
      trustedThreshold: fraction().default(0.6),
      /** all untrusted peers naming one model weigh at most this together (the Sybil bound) */
      untrustedCap: fraction().default(0.3),
      /** the trust-weighted support a model needs before this node follows it */
      minSupport: z.number().positive().default(0.6),
    })
    .prefault({}),
  data: z
    .strictObject({
      perClass: int(10).default(2000),
      validationFraction: z.number().gt(0).lt(1).default(0.2),
      benignSampleRate: fraction().default(0.25),
      labelDelaySeconds: int(0).default(300),
    })
    .prefault({}),
  detector: z
    .strictObject({
      /** score live windows with the adopted model as one more detector in the ensemble */
      enabled: z.boolean().default(true),
      threshold: fraction().default(0.9),
      minEvents: int(1).default(5),
      /** a model not yet validated on local data reports at most this score, kept below a ban on its own */
      provisionalScoreCap: fraction().default(0.5),
    })
    .prefault({}),
  backend: z.enum(['auto', 'tensorflow', 'wasm', 'cpu']).default('auto'),
  maxMessageBytes: int(1024, MAX_MODEL_MESSAGE_BYTES).default(262_144),
})

/** The round clock needs training to start before collection closes: checked here, before any identity exists. */
function roundPhasesInOrder(learning: z.output<typeof LearningSchema>, ctx: z.RefinementCtx): void {
  if (learning.trainFraction >= learning.closeFraction) {
    ctx.addIssue({
      code: 'custom',
      path: ['trainFraction'],
      input: learning.trainFraction,
      message: `less than learning.closeFraction (${learning.closeFraction})`,
    })
  }
}

// Trust in other nodes (node/reputation/): who may move our blocklist, and how far.
export const ReputationSchema = z.strictObject({
  /** peers this operator vouches for (e.g. the community's seed nodes): pinned trusted at every start */
  trustedPeers: z.array(peerId).default(() => []),
  /** peers never to listen to: pinned banned at every start (their gossip score falls below graylist) */
  bannedPeers: z.array(peerId).default(() => []),
  /** evidence about a peer loses half its weight in this many days */
  halfLifeDays: z.number().positive().default(30),
})

const cidrText = z.string().refine(
  (text) => {
    try {
      parseIndicator(text)
      return true
    } catch {
      return false
    }
  },
  { error: 'an IPv4/IPv6 address or CIDR' },
)

// What turns evidence into blocks (node/blocklist/): thresholds of decideBlock and the allowlist.
export const BlocklistSchema = z.strictObject({
  /** a community block needs at least this many distinct trusted reporters (k) ... */
  minTrustedReporters: int(1).default(2),
  /** ... each trusted at least this much (t) */
  trustedThreshold: fraction().default(0.6),
  /** combined evidence score a community block needs */
  communityThreshold: fraction().default(0.7),
  /** the most that all untrusted reporters together can add, however many there are */
  untrustedCap: fraction().default(0.3),
  /** base length of a community block; repeat offenders get longer ones */
  communityBanSeconds: int(60).default(4 * 3600),
  /** addresses and ranges never blocked (loopback and this node's addresses always are) */
  allowlist: z.array(cidrText).default(() => []),
  /** private and special-use ranges (10/8, 192.168/16, fc00::/7, ...) are never blocked unless this is false */
  allowPrivateRanges: z.boolean().default(true),
  /** publish a signed summary of this node's blocklist for peers that missed alerts */
  publishSummaries: z.boolean().default(true),
  /**
   * how often this node considers publishing a signed summary of its blocklist; one that blocks the same addresses
   * as the last goes out only every 180 s, or for a peer that subscribed since
   */
  summaryIntervalSeconds: int(5).default(60),
})

export const ShieldwallConfigSchema = z.strictObject({
  nodeName: z.string().min(1).optional(),
  dataDir: z
    .string()
    .min(1)
    .default(() => defaultDataDir()),
  log: LogSchema.prefault({}),
  api: ApiSchema.prefault({}),
  p2p: P2pSchema.prefault({}),
  alerts: AlertsSchema.prefault({}),
  sources: z.array(SourceSchema).default(() => []),
  detect: DetectSchema.prefault({}),
  learning: LearningSchema.superRefine(roundPhasesInOrder).prefault({}),
  reputation: ReputationSchema.prefault({}),
  blocklist: BlocklistSchema.prefault({}),
})

export type ShieldwallConfig = z.output<typeof ShieldwallConfigSchema>
/** What a config file or CLI override may contain before defaults are applied. */
export type ShieldwallConfigInput = z.input<typeof ShieldwallConfigSchema>
