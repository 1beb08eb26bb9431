import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js'
import fc from 'fast-check'
import { getPublicKey } from '../../crypto/signing/ed25519.ts'
import { encodeEnvelope, sealEnvelope, type Envelope, type UnsignedEnvelope } from '../envelope/envelope.ts'
import { formatIp, parseIndicator } from '../indicator.ts'
import { ALERT_TYPE, ALERT_VERSION, SCENARIO_PATTERN, SEVERITIES, type AlertBody } from '../messages/alert.ts'
import {
  BLOCKLIST_SUMMARY_TYPE,
  BLOCKLIST_SUMMARY_VERSION,
  type BlocklistSummaryBody,
  type SummaryEntry,
} from '../messages/blocklist-summary.ts'
import {
  METRIC_NAME_PATTERN,
  MODEL_ANNOUNCE_TYPE,
  MODEL_ANNOUNCE_VERSION,
  type ModelAnnounceBody,
} from '../messages/model-announce.ts'
import {
  MAX_EXAMPLE_BUCKET,
  MAX_REPORTED_EPSILON,
  MODEL_UPDATE_TYPE,
  MODEL_UPDATE_VERSION,
  SCHEMA_PATTERN,
  type ModelUpdateBody,
} from '../messages/model-update.ts'
import { TOPICS, type TopicName } from '../topics.ts'

/**
 * Generators of valid wire messages, one per schema in `protocol/messages/`, for the fuzz targets. Everything is
 * derived from fast-check's seed (keys are fixed), so a failing case is reproduced from its seed alone.
 */

/** The fuzzer's clock: every generated message is current at this instant. */
export const FUZZ_NOW = 1_780_000_000_000

/** Limits the fuzz targets validate with, the node's defaults per topic. */
export const FUZZ_LIMITS: Record<TopicName, { maxBytes: number; maxClockSkewMs: number; maxTtlMs: number }> =
  {
    [TOPICS.alerts]: { maxBytes: 16_384, maxClockSkewMs: 30_000, maxTtlMs: 30 * 86_400_000 },
    [TOPICS.blocklists]: { maxBytes: 256 * 1024, maxClockSkewMs: 30_000, maxTtlMs: 60 * 60_000 },
    [TOPICS.models]: { maxBytes: 262_144, maxClockSkewMs: 30_000, maxTtlMs: 3_600_000 },
  }

function fixedKey(label: string): { secretKey: Uint8Array; publicKey: Uint8Array } {
  const secretKey = sha256(utf8ToBytes(`shieldwall-fuzz/${label}`))
  return { secretKey, publicKey: getPublicKey(secretKey) }
}

/** The honest sender whose messages are mutated, and the attacker whose key signs forgeries. */
export const HONEST = fixedKey('honest')
export const ATTACKER = fixedKey('attacker')

/**
 * Every envelope the honest key really sealed in this process (hex of its bytes), with the topic it was meant
 * for. The forgery oracle: a validator that accepts bytes not in here, or on another topic, accepted something
 * the key holder never said there.
 */
const sealedByHonest = new Map<string, TopicName>()

export function sealHonest<B>(
  unsigned: UnsignedEnvelope<B>,
  topic: TopicName,
): { envelope: Envelope<B>; bytes: Uint8Array } {
  const envelope = sealEnvelope({ ...unsigned, sender: HONEST.publicKey }, HONEST.secretKey)
  const bytes = encodeEnvelope(envelope)
  sealedByHonest.set(bytesToHex(bytes), topic)
  return { envelope, bytes }
}

export function wasSealedByHonest(bytes: Uint8Array, topic: TopicName): boolean {
  return sealedByHonest.get(bytesToHex(bytes)) === topic
}

// ---- field generators ----

const hex32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => bytesToHex(b))

/** A canonical IPv4/IPv6 address or CIDR: random bits and prefix, spelled the one way the wire accepts. */
export const indicatorArb: fc.Arbitrary<string> = fc
  .oneof(
    fc.tuple(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.option(fc.integer({ min: 0, max: 32 }))),
    fc.tuple(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.option(fc.integer({ min: 0, max: 128 }))),
  )
  .map(([bytes, prefix]) =>
    parseIndicator(prefix === null ? formatIp(bytes) : `${formatIp(bytes)}/${prefix}`),
  )
  .map((i) => i.canonical)

export const scenarioArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('ssh-bf', 'crowdsecurity/http-probing', 'manual', 'http-scan:2'),
  fc.stringMatching(SCENARIO_PATTERN),
)

const schemaIdArb = fc.oneof(
  fc.constantFrom('nsl-kdd/1', 'shieldwall-flow/2'),
  fc.stringMatching(SCHEMA_PATTERN),
)
const unit = fc.double({ min: 0, max: 1, noNaN: true })
/** envelopes are created up to this long before FUZZ_NOW; body timestamps come before that (`spec.times`) */
const MAX_AGE_MS = 600_000
const timestampArb = fc.integer({ min: 0, max: FUZZ_NOW - MAX_AGE_MS })

export const alertBodyArb: fc.Arbitrary<AlertBody> = fc
  .record({
    indicator: indicatorArb,
    scenario: scenarioArb,
    severity: fc.constantFrom(...SEVERITIES),
    confidence: unit,
    events: fc.integer({ min: 1, max: 1e9 }),
    windowSeconds: fc.integer({ min: 0, max: 30 * 24 * 3600 }),
    lastSeenAgo: fc.integer({ min: 0, max: 86_400_000 }),
    span: fc.integer({ min: 0, max: 86_400_000 }),
  })
  .map(({ lastSeenAgo, span, ...rest }) => {
    // seen before it was sent, first before last: what an honest detector reports
    const lastSeen = FUZZ_NOW - MAX_AGE_MS - lastSeenAgo
    return { ...rest, firstSeen: lastSeen - span, lastSeen }
  })

const summaryEntryArb: fc.Arbitrary<SummaryEntry> = fc.record({
  value: indicatorArb,
  score: unit,
  scenario: scenarioArb,
  expiresAt: fc.integer({ min: 0, max: FUZZ_NOW + 86_400_000 }),
})

export const summaryBodyArb: fc.Arbitrary<BlocklistSummaryBody> = fc
  .record({
    entries: fc.array(summaryEntryArb, { maxLength: 8 }),
    generatedAt: timestampArb,
    extra: fc.nat({ max: 1000 }),
    truncated: fc.boolean(),
  })
  .map(({ extra, ...b }) => ({ ...b, total: b.entries.length + extra }))

const powerOfTwoArb = fc.integer({ min: 0, max: Math.log2(MAX_EXAMPLE_BUCKET) }).map((k) => 2 ** k)

export const modelUpdateBodyArb: fc.Arbitrary<ModelUpdateBody> = fc
  .record({
    round: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    baseHash: hex32,
    schema: schemaIdArb,
    encoding: fc.constantFrom('f16' as const, 'i8' as const),
    shapes: fc.array(fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 0, maxLength: 2 }), {
      minLength: 1,
      maxLength: 3,
    }),
    seed: fc.uint8Array({ minLength: 1, maxLength: 8 }),
    scales: fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { minLength: 3, maxLength: 3 }),
    exampleBucket: powerOfTwoArb,
    epsilonSpent: fc.double({ min: 0, max: MAX_REPORTED_EPSILON, noNaN: true }),
    delta: fc.double({ min: Number.MIN_VALUE, max: 1 - Number.EPSILON / 2, noNaN: true }),
  })
  .map(({ seed, scales, ...b }) => {
    const params = b.shapes.reduce((sum, s) => sum + s.reduce((x, y) => x * y, 1), 0)
    const bytes = params * (b.encoding === 'f16' ? 2 : 1)
    // any bytes are a valid payload (f16 NaN included: the federation checks finiteness after decoding)
    const data = Uint8Array.from({ length: bytes }, (_, i) => seed[i % seed.length] ^ (i * 31))
    const body: ModelUpdateBody = { ...b, data }
    if (b.encoding === 'i8') body.scales = scales.slice(0, b.shapes.length).concat()
    while (body.scales !== undefined && body.scales.length < b.shapes.length) body.scales.push(1)
    return body
  })

export const modelAnnounceBodyArb: fc.Arbitrary<ModelAnnounceBody> = fc
  .record({
    modelHash: hex32,
    parentHash: fc.option(hex32),
    round: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    schema: schemaIdArb,
    metrics: fc.dictionary(
      fc.stringMatching(METRIC_NAME_PATTERN),
      fc.double({ min: -1e12, max: 1e12, noNaN: true }),
      { maxKeys: 16 },
    ),
  })
  .filter((b) => b.parentHash !== b.modelHash)

export interface MessageKind {
  topic: TopicName
  type: string
  version: number
  body: fc.Arbitrary<unknown>
}

export const MESSAGE_KINDS: readonly MessageKind[] = [
  { topic: TOPICS.alerts, type: ALERT_TYPE, version: ALERT_VERSION, body: alertBodyArb },
  {
    topic: TOPICS.blocklists,
    type: BLOCKLIST_SUMMARY_TYPE,
    version: BLOCKLIST_SUMMARY_VERSION,
    body: summaryBodyArb,
  },
  { topic: TOPICS.models, type: MODEL_UPDATE_TYPE, version: MODEL_UPDATE_VERSION, body: modelUpdateBodyArb },
  {
    topic: TOPICS.models,
    type: MODEL_ANNOUNCE_TYPE,
    version: MODEL_ANNOUNCE_VERSION,
    body: modelAnnounceBodyArb,
  },
]

export interface ValidMessage {
  topic: TopicName
  unsigned: UnsignedEnvelope
}

/** An unsigned envelope of one kind whose every field is valid and current at FUZZ_NOW. */
export function unsignedOf(kind: MessageKind): fc.Arbitrary<ValidMessage> {
  return fc
    .record({
      body: kind.body,
      seq: fc.oneof(fc.nat({ max: 1000 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })),
      age: fc.integer({ min: 0, max: MAX_AGE_MS }),
      ttl: fc.integer({ min: 1, max: 3_600_000 }),
    })
    .map(({ body, seq, age, ttl }) => {
      const createdAt = FUZZ_NOW - age
      return {
        topic: kind.topic,
        unsigned: {
          type: kind.type,
          version: kind.version,
          sender: HONEST.publicKey,
          seq,
          createdAt,
          // alive at FUZZ_NOW whatever the age
          expiresAt: Math.max(createdAt + ttl, FUZZ_NOW + 1),
          body,
        },
      }
    })
}

export const validUnsignedArb: fc.Arbitrary<ValidMessage> = fc.oneof(...MESSAGE_KINDS.map(unsignedOf))

export interface SignedMessage {
  topic: TopicName
  envelope: Envelope
  bytes: Uint8Array
}

export const signMessage = (m: ValidMessage): SignedMessage => ({
  topic: m.topic,
  ...sealHonest(m.unsigned, m.topic),
})

/**
 * Valid signed messages. Signing costs about a millisecond, so long runs draw from a pool signed once (from the
 * same generators, with a fixed seed) and spend their cases on what is done to the bytes.
 */
export function signedPool(size: number, seed: number): SignedMessage[] {
  return fc.sample(validUnsignedArb, { numRuns: size, seed }).map(signMessage)
}

export function fromPool(pool: readonly SignedMessage[]): fc.Arbitrary<SignedMessage> {
  return fc.integer({ min: 0, max: pool.length - 1 }).map((i) => pool[i])
}
