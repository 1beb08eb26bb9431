import type { GossipSub } from '@libp2p/gossipsub'
import { encode } from 'cborg'
import fc from 'fast-check'
import { signWithContext } from '../../crypto/signing/ed25519.ts'
import { InvalidEncodingError, ShapeMismatchError } from '../../node/learning/codec/codec-errors.ts'
import { decodeWeights } from '../../node/learning/codec/weights-codec.ts'
import {
  decodeModelSyncRequest,
  decodeModelSyncResponse,
  encodeModelSyncRequest,
  encodeModelSyncResponse,
  MalformedModelSyncMessageError,
  type ModelSyncErrorBody,
  type ModelSyncRequest,
  type ModelSyncResponse,
} from '../../node/learning/federation/model-sync.ts'
import { silentLogger } from '../../node/logging/logger.ts'
import { frameLength } from '../../node/p2p/noise-frames.ts'
import { BlocklistSummaryService, blocklistSummaries } from '../../node/sync/blocklist-summaries.ts'
import { bytesEqual, decodeCanonical, encodeCanonical } from '../envelope/cbor.ts'
import {
  decodeEnvelope,
  encodeEnvelope,
  MalformedEnvelopeError,
  signedPayload,
  signingContext,
  type Envelope,
} from '../envelope/envelope.ts'
import { ModelUpdateBodyV1 } from '../messages/model-update.ts'
import { TOPIC_MESSAGES } from '../messages/registry.ts'
import {
  decodeSyncRequest,
  decodeSyncResponse,
  encodeSyncRequest,
  encodeSyncResponse,
  MalformedSyncMessageError,
  MAX_SYNC_PAGE_LIMIT,
  SYNC_ERROR_CODES,
  type SyncRequest,
  type SyncResponse,
} from '../messages/sync-page.ts'
import { TOPICS, type TopicName } from '../topics.ts'
import { VALIDATION_REASONS, validateEnvelope, type Validation } from '../validation/validate-envelope.ts'
import {
  ATTACKER,
  FUZZ_LIMITS,
  FUZZ_NOW,
  HONEST,
  MESSAGE_KINDS,
  sealHonest,
  validUnsignedArb,
  wasSealedByHonest,
  type SignedMessage,
  type ValidMessage,
} from './arbitraries.ts'
import { encodeLoose } from './cbor-writer.ts'
import {
  applyByteOps,
  applyFieldEdits,
  byteOpsArb,
  concat,
  fieldEditArb,
  hostileCborArb,
  hostileValueArb,
  type ByteOp,
  type FieldEdit,
} from './mutations.ts'

/**
 * The fuzz targets: each draws cases from an arbitrary and judges one case. Shared by the bounded properties in
 * `npm test` and the million-case benchmark (`bench/fuzz`), so both check exactly the same things:
 *
 * - crash: a decoder threw something other than its documented named error, or a validator threw at all, or
 *   returned a verdict that is not one of the typed ones;
 * - forgery: a validator accepted bytes the honest key never sealed for that topic (a signature from another
 *   key, another message's signature, a mutation, a re-spelling, a signature made under another type's context);
 * - mismatch: a valid message did not survive encode/decode unchanged.
 */

export type Outcome = { kind: 'ok' } | { kind: 'crash' | 'forgery' | 'mismatch'; detail: string }
export const OK: Outcome = { kind: 'ok' }

export interface FuzzTarget<T = unknown> {
  name: string
  arbitrary: fc.Arbitrary<T>
  run(input: T): Outcome
}

const TOPIC_LIST = Object.values(TOPICS) as TopicName[]

const explain = (err: unknown) =>
  err instanceof Error ? `${err.name}: ${err.message.slice(0, 200)}` : `non-error thrown: ${String(err)}`

function isWellFormedVerdict(v: Validation): boolean {
  if (v === null || typeof v !== 'object') return false
  if (v.action === 'accept') return v.envelope !== undefined
  return (
    (v.action === 'reject' || v.action === 'ignore') &&
    typeof v.detail === 'string' &&
    Object.hasOwn(VALIDATION_REASONS, v.reason) &&
    VALIDATION_REASONS[v.reason] === v.action
  )
}

/**
 * Judges bytes on every topic as gossip would: the validator must answer (never throw), and accept only what the
 * honest key sealed for that very topic. Also checks the envelope decoder throws only its named error.
 */
export function judgeEverywhere(bytes: Uint8Array): Outcome {
  let decodes = true
  try {
    decodeEnvelope(bytes)
  } catch (err) {
    if (!(err instanceof MalformedEnvelopeError))
      return { kind: 'crash', detail: `decodeEnvelope: ${explain(err)}` }
    decodes = false
  }
  // Bytes that do not decode are refused alike on every topic (oversize or malformed): one topic shows the
  // validator answers; the others would only repeat the decode.
  for (const topic of decodes ? TOPIC_LIST : TOPIC_LIST.slice(0, 1)) {
    let verdict: Validation
    try {
      verdict = validateEnvelope(bytes, TOPIC_MESSAGES[topic], FUZZ_NOW, FUZZ_LIMITS[topic])
    } catch (err) {
      return { kind: 'crash', detail: `validateEnvelope on ${topic} threw ${explain(err)}` }
    }
    if (!isWellFormedVerdict(verdict)) {
      return { kind: 'crash', detail: `validateEnvelope on ${topic}: malformed verdict ${safeJson(verdict)}` }
    }
    if (verdict.action === 'accept' && !wasSealedByHonest(bytes, topic)) {
      return { kind: 'forgery', detail: `accepted on ${topic} bytes never sealed there: ${hex(bytes)}` }
    }
  }
  return OK
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? `${x}n` : x)).slice(0, 300)
  } catch {
    return String(v)
  }
}

const hex = (b: Uint8Array) =>
  b.length > 400 ? `${Buffer.from(b.subarray(0, 400)).toString('hex')}…` : Buffer.from(b).toString('hex')

/** cborg's canonical encoding, or undefined when a hostile value cannot be encoded at all (not a finding) */
function tryEncode(value: unknown, choices: readonly number[]): Uint8Array | undefined {
  try {
    return choices.length === 0 ? encode(value) : encodeLoose(value, choices)
  } catch {
    return undefined
  }
}

const choicesArb = fc.array(fc.nat({ max: 15 }), { maxLength: 12 })

// ---- envelopes ----

export function envelopeBytesTarget(): FuzzTarget<Uint8Array> {
  return { name: 'envelope-bytes', arbitrary: hostileCborArb, run: judgeEverywhere }
}

/** Hostile values in an otherwise well-shaped envelope map, so the decoder's field checks and the schemas run. */
export function envelopeShapedTarget(source: fc.Arbitrary<SignedMessage>): FuzzTarget<{
  msg: SignedMessage
  edits: FieldEdit[]
  choices: number[]
}> {
  return {
    name: 'envelope-fields',
    arbitrary: fc.record({
      msg: source,
      edits: fc.array(fieldEditArb, { minLength: 1, maxLength: 3 }),
      choices: fc.oneof(fc.constant<number[]>([]), choicesArb),
    }),
    run({ msg, edits, choices }) {
      const edited = applyFieldEdits(decodeCanonical(msg.bytes) as Record<string, unknown>, edits)
      const bytes = tryEncode(edited, choices)
      return bytes === undefined ? OK : judgeEverywhere(bytes)
    },
  }
}

export function envelopeMutationTarget(
  source: fc.Arbitrary<SignedMessage>,
): FuzzTarget<{ msg: SignedMessage; donor: SignedMessage; ops: ByteOp[] }> {
  return {
    name: 'envelope-mutation',
    arbitrary: fc.record({ msg: source, donor: source, ops: byteOpsArb }),
    run: ({ msg, donor, ops }) => judgeEverywhere(applyByteOps(msg.bytes, ops, donor.bytes)),
  }
}

/**
 * One entry added to a map of a signed message (the envelope, the body, a summary entry, model metrics), with
 * the keys a JavaScript object treats specially. Whatever a parser does with the key, the signature covers the
 * bytes received, so the result is never accepted.
 */
export function addedEntryTarget(source: fc.Arbitrary<SignedMessage>): FuzzTarget<{
  msg: SignedMessage
  path: number
  key: string
  value: unknown
}> {
  return {
    name: 'envelope-added-entry',
    arbitrary: fc.record({
      msg: source,
      path: fc.nat(),
      key: fc.constantFrom(
        '__proto__',
        'constructor',
        'toString',
        'valueOf',
        'hasOwnProperty',
        '',
        'accuracy',
      ),
      value: fc.oneof(fc.constant(0.5), fc.constant(null), hostileValueArb),
    }),
    run({ msg, path, key, value }) {
      const decoded = decodeCanonical(msg.bytes) as Record<string, unknown>
      const bytes = tryEncode(applyFieldEdits(decoded, [{ op: 'add', path, key, value }]), [])
      return bytes === undefined ? OK : judgeEverywhere(bytes)
    },
  }
}

/** The same signed content spelled another way (wider heads, floats for ints, indefinite lengths, key order, tags). */
export function respellingTarget(
  source: fc.Arbitrary<SignedMessage>,
): FuzzTarget<{ msg: SignedMessage; choices: number[] }> {
  return {
    name: 'envelope-respelling',
    arbitrary: fc.record({
      msg: source,
      choices: fc.array(fc.nat({ max: 15 }), { minLength: 1, maxLength: 12 }),
    }),
    run({ msg, choices }) {
      const bytes = tryEncode(decodeCanonical(msg.bytes), choices)
      return bytes === undefined ? OK : judgeEverywhere(bytes)
    },
  }
}

const NESTING_PREFIXES: readonly (readonly number[])[] = [
  [0x81],
  [0xa1, 0x60],
  [0x9f],
  [0xd8, 0x18],
  [0x82, 0x00],
]
const MARKER = 'fuzz-deep-nesting-marker'

/** `value`'s bytes with one field's value replaced by `depth` levels of nesting (arrays, maps, tags). */
export function withDeepField(
  decoded: Record<string, unknown>,
  field: string,
  depth: number,
  prefix: readonly number[],
): Uint8Array {
  const bytes = encode({ ...decoded, [field]: MARKER })
  const marker = encode(MARKER)
  const at = Buffer.from(bytes).indexOf(Buffer.from(marker))
  const deep = new Uint8Array(prefix.length * depth + 1)
  for (let i = 0; i < depth; i++) deep.set(prefix, i * prefix.length)
  const open = prefix[0] === 0x9f ? depth : 0
  const tail = new Uint8Array(open).fill(0xff)
  return concat(bytes.subarray(0, at), deep, tail, bytes.subarray(at + marker.length))
}

/**
 * A well-formed envelope with one field nested thousands deep: the decoder and the canonical re-encoding
 * recurse, so this is where a stack overflow would escape as something other than the named error.
 */
export function deepNestingTarget(source: fc.Arbitrary<SignedMessage>): FuzzTarget<{
  msg: SignedMessage
  field: string
  depth: number
  prefix: number
}> {
  return {
    name: 'envelope-deep-nesting',
    arbitrary: fc.record({
      msg: source,
      field: fc.constantFrom('body', 'body', 'body', 'type', 'seq', 'sender', 'signature', 'createdAt'),
      depth: fc.oneof(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1000, max: 12_000 })),
      prefix: fc.nat({ max: NESTING_PREFIXES.length - 1 }),
    }),
    run({ msg, field, depth, prefix }) {
      const decoded = decodeCanonical(msg.bytes) as Record<string, unknown>
      return judgeEverywhere(withDeepField(decoded, field, depth, NESTING_PREFIXES[prefix]))
    },
  }
}

/**
 * Signatures that are real but not the honest key's for this content: the attacker's key under the honest
 * sender, another honest message's signature transplanted, or the honest key's signature made under another
 * message type's context (domain separation). None may be accepted anywhere.
 */
export function forgedSignatureTarget(source: fc.Arbitrary<SignedMessage>): FuzzTarget<{
  msg: ValidMessage
  other: SignedMessage
  how: 'attacker-key' | 'transplant' | 'cross-context' | 'replay-elsewhere'
  context: number
}> {
  return {
    name: 'forged-signature',
    arbitrary: fc.record({
      msg: validUnsignedArb,
      other: source,
      how: fc.constantFrom(
        'attacker-key' as const,
        'transplant' as const,
        'cross-context' as const,
        'replay-elsewhere' as const,
      ),
      context: fc.nat({ max: MESSAGE_KINDS.length - 1 }),
    }),
    run({ msg, other, how, context }) {
      const unsigned = { ...msg.unsigned, sender: HONEST.publicKey }
      let signature: Uint8Array
      if (how === 'replay-elsewhere') {
        // a genuine message: judgeEverywhere already requires it be accepted on its own topic only
        const sealed = sealHonest(unsigned, msg.topic)
        const outcome = judgeEverywhere(sealed.bytes)
        if (outcome.kind !== 'ok') return outcome
        const own = validateEnvelope(
          sealed.bytes,
          TOPIC_MESSAGES[msg.topic],
          FUZZ_NOW,
          FUZZ_LIMITS[msg.topic],
        )
        return own.action === 'accept'
          ? OK
          : { kind: 'mismatch', detail: `a genuine ${unsigned.type} was refused: ${safeJson(own)}` }
      }
      if (how === 'attacker-key') {
        signature = signWithContext(
          ATTACKER.secretKey,
          signingContext(unsigned.type, unsigned.version),
          signedPayload(unsigned),
        )
      } else if (how === 'transplant') {
        signature = other.envelope.signature
      } else {
        const kind = MESSAGE_KINDS[context]
        if (kind.type === unsigned.type) return OK
        signature = signWithContext(
          HONEST.secretKey,
          signingContext(kind.type, kind.version),
          signedPayload(unsigned),
        )
      }
      return judgeEverywhere(encodeEnvelope({ ...unsigned, signature }))
    },
  }
}

/** A valid message survives encode/decode/validate unchanged: same bytes, same body, accepted on its topic. */
export function roundTripTarget(source: fc.Arbitrary<SignedMessage>): FuzzTarget<SignedMessage> {
  return {
    name: 'envelope-roundtrip',
    arbitrary: source,
    run(msg) {
      let decoded: Envelope
      try {
        decoded = decodeEnvelope(msg.bytes)
      } catch (err) {
        return { kind: 'mismatch', detail: `a sealed message does not decode: ${explain(err)}` }
      }
      if (!bytesEqual(encodeEnvelope(decoded), msg.bytes))
        return { kind: 'mismatch', detail: 'bytes changed' }
      if (!bytesEqual(encodeCanonical(decoded.body), encodeCanonical(msg.envelope.body))) {
        return { kind: 'mismatch', detail: 'body changed' }
      }
      const verdict = validateEnvelope(msg.bytes, TOPIC_MESSAGES[msg.topic], FUZZ_NOW, FUZZ_LIMITS[msg.topic])
      if (verdict.action !== 'accept') {
        return { kind: 'mismatch', detail: `a valid ${msg.envelope.type} was refused: ${safeJson(verdict)}` }
      }
      if (!bytesEqual(encodeEnvelope(verdict.envelope), msg.bytes)) {
        return { kind: 'mismatch', detail: 'the accepted envelope is not the one sent' }
      }
      return OK
    },
  }
}

// ---- blocklist summaries: the service's intake, with its replay and rate state ----

const QUIET = silentLogger()
const OBSERVER = { publicKey: new Uint8Array(32).fill(7), secretKey: new Uint8Array(32).fill(9) }

export function summaryIntakeTarget(
  source: fc.Arbitrary<SignedMessage>,
): FuzzTarget<{ msg: SignedMessage; ops: ByteOp[] | null; edits: FieldEdit[] | null }[]> {
  const summaries = source.filter((m) => m.topic === TOPICS.blocklists)
  const step = fc.record({
    msg: summaries,
    ops: fc.option(byteOpsArb, { freq: 2 }),
    edits: fc.option(fc.array(fieldEditArb, { minLength: 1, maxLength: 2 }), { freq: 2 }),
  })
  return {
    name: 'summary-intake',
    arbitrary: fc.array(step, { minLength: 1, maxLength: 4 }),
    run(steps) {
      // intake never touches pubsub or the signing key; the service is not started
      const service: BlocklistSummaryService = blocklistSummaries({ publish: false })({
        pubsub: undefined as unknown as GossipSub,
        sequence: { next: async () => 0 },
        ...OBSERVER,
        logger: QUIET,
        clock: () => FUZZ_NOW,
      })
      const heard: Envelope[] = []
      service.onSummary((_peer, _body, envelope) => heard.push(envelope))
      const accepted = new Set<string>()
      for (const { msg, ops, edits } of steps) {
        let bytes: Uint8Array | undefined = msg.bytes
        if (edits !== null)
          bytes = tryEncode(applyFieldEdits(decodeCanonical(bytes) as Record<string, unknown>, edits), [])
        if (bytes !== undefined && ops !== null) bytes = applyByteOps(bytes, ops, msg.bytes)
        if (bytes === undefined) continue
        let verdict: Validation
        try {
          verdict = service.intake(bytes)
        } catch (err) {
          return { kind: 'crash', detail: `summary intake threw ${explain(err)}` }
        }
        if (!isWellFormedVerdict(verdict))
          return { kind: 'crash', detail: `malformed verdict ${safeJson(verdict)}` }
        if (verdict.action !== 'accept') continue
        if (!wasSealedByHonest(bytes, TOPICS.blocklists)) {
          return { kind: 'forgery', detail: `summary intake accepted unsigned bytes ${hex(bytes)}` }
        }
        const key = hex(bytes)
        if (accepted.has(key))
          return { kind: 'forgery', detail: 'the same summary was accepted twice (replay)' }
        accepted.add(key)
      }
      for (const envelope of heard) {
        if (!wasSealedByHonest(encodeEnvelope(envelope), TOPICS.blocklists)) {
          return { kind: 'forgery', detail: 'a listener heard a summary the sender never sealed' }
        }
      }
      return OK
    },
  }
}

// ---- model updates: what the schema lets through must decode as weights ----

export function modelUpdateWeightsTarget(): FuzzTarget<{ body: unknown; edits: FieldEdit[] }> {
  const update = MESSAGE_KINDS.find((k) => k.type === 'model-update')!
  return {
    name: 'model-update-weights',
    arbitrary: fc.record({ body: update.body, edits: fc.array(fieldEditArb, { maxLength: 3 }) }),
    run({ body, edits }) {
      const edited = applyFieldEdits({ body } as Record<string, unknown>, edits).body
      const parsed = ModelUpdateBodyV1.safeParse(edited)
      if (!parsed.success) return OK
      try {
        const tensors = decodeWeights(parsed.data)
        if (tensors.length !== parsed.data.shapes.length) return { kind: 'mismatch', detail: 'tensor count' }
      } catch (err) {
        // the schema promised consistent shapes, data and scales: any throw is a disagreement between the two
        return { kind: 'crash', detail: `decodeWeights of a schema-valid update threw ${explain(err)}` }
      }
      return OK
    },
  }
}

// ---- sync frames (alert catch-up, model sync) ----

const cursorArb = fc.string({ minLength: 1, maxLength: 256, unit: 'grapheme' }).filter((s) => s.length <= 256)

const syncRequestArb: fc.Arbitrary<SyncRequest> = fc.record(
  {
    since: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    cursor: cursorArb,
    limit: fc.integer({ min: 1, max: MAX_SYNC_PAGE_LIMIT }),
  },
  { requiredKeys: ['since', 'limit'] },
)

function syncResponseArb(source: fc.Arbitrary<SignedMessage>): fc.Arbitrary<SyncResponse> {
  const alert = fc.oneof(
    source.map((m) => m.bytes),
    fc.record({ m: source, ops: byteOpsArb }).map(({ m, ops }) => applyByteOps(m.bytes, ops)),
  )
  return fc.oneof(
    fc.record(
      { alerts: fc.array(alert, { maxLength: 4 }), nextCursor: cursorArb },
      { requiredKeys: ['alerts'] },
    ),
    fc.record({
      error: fc.constantFrom(...SYNC_ERROR_CODES),
      message: fc.string({ maxLength: 200 }).filter((s) => s.length <= 200),
    }),
  )
}

type Frame<T> =
  | { form: 'valid'; value: T }
  | { form: 'mutated'; value: T; ops: ByteOp[] }
  | { form: 'edited'; value: T; edits: FieldEdit[]; choices: number[] }
  | { form: 'hostile'; bytes: Uint8Array }

function frameArb<T>(valid: fc.Arbitrary<T>): fc.Arbitrary<Frame<T>> {
  return fc.oneof(
    fc.record({ form: fc.constant('valid' as const), value: valid }),
    fc.record({ form: fc.constant('mutated' as const), value: valid, ops: byteOpsArb }),
    fc.record({
      form: fc.constant('edited' as const),
      value: valid,
      edits: fc.array(fieldEditArb, { minLength: 1, maxLength: 3 }),
      choices: fc.oneof(fc.constant<number[]>([]), choicesArb),
    }),
    fc.record({ form: fc.constant('hostile' as const), bytes: hostileCborArb }),
  )
}

function frameBytes<T>(frame: Frame<T>, encodeValid: (v: T) => Uint8Array): Uint8Array | undefined {
  if (frame.form === 'hostile') return frame.bytes
  const bytes = encodeValid(frame.value)
  if (frame.form === 'valid') return bytes
  if (frame.form === 'mutated') return applyByteOps(bytes, frame.ops)
  return tryEncode(
    applyFieldEdits(decodeCanonical(bytes) as Record<string, unknown>, frame.edits),
    frame.choices,
  )
}

/** decode, allowing only the named error; round trip for valid frames */
function checkFrame<T>(
  frame: Frame<T>,
  bytes: Uint8Array,
  decode: (b: Uint8Array) => unknown,
  encodeValid: (v: T) => Uint8Array,
  namedError: new (...args: never[]) => Error,
  what: string,
): { outcome: Outcome; decoded?: unknown } {
  let decoded: unknown
  try {
    decoded = decode(bytes)
  } catch (err) {
    if (err instanceof namedError) {
      if (frame.form === 'valid')
        return { outcome: { kind: 'mismatch', detail: `a valid ${what} was refused: ${explain(err)}` } }
      return { outcome: OK }
    }
    return { outcome: { kind: 'crash', detail: `${what} decoder threw ${explain(err)}` } }
  }
  if (frame.form === 'valid' && !bytesEqual(encodeValid(decoded as T), bytes)) {
    return { outcome: { kind: 'mismatch', detail: `${what} did not round-trip` } }
  }
  return { outcome: OK, decoded }
}

export function alertSyncFrameTarget(source: fc.Arbitrary<SignedMessage>): FuzzTarget<{
  request: Frame<SyncRequest>
  response: Frame<SyncResponse>
}> {
  const alerts = source.filter((m) => m.topic === TOPICS.alerts)
  return {
    name: 'alert-sync-frames',
    arbitrary: fc.record({ request: frameArb(syncRequestArb), response: frameArb(syncResponseArb(alerts)) }),
    run({ request, response }) {
      const reqBytes = frameBytes(request, encodeSyncRequest)
      if (reqBytes !== undefined) {
        const { outcome } = checkFrame(
          request,
          reqBytes,
          decodeSyncRequest,
          encodeSyncRequest,
          MalformedSyncMessageError,
          'sync request',
        )
        if (outcome.kind !== 'ok') return outcome
      }
      const resBytes = frameBytes(response, encodeSyncResponse)
      if (resBytes === undefined) return OK
      const { outcome, decoded } = checkFrame(
        response,
        resBytes,
        decodeSyncResponse,
        encodeSyncResponse,
        MalformedSyncMessageError,
        'sync response',
      )
      if (outcome.kind !== 'ok') return outcome
      // the client hands every alert of a page to the same validator as gossip
      const page = decoded as SyncResponse | undefined
      if (page !== undefined && 'alerts' in page) {
        for (const bytes of page.alerts) {
          const judged = judgeEverywhere(bytes)
          if (judged.kind !== 'ok') return judged
        }
      }
      return OK
    },
  }
}

const hashArb = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex'))

const modelSyncRequestArb: fc.Arbitrary<ModelSyncRequest> = fc.record(
  { modelHash: hashArb },
  { requiredKeys: [] },
)

const modelSyncResponseArb: fc.Arbitrary<ModelSyncResponse | ModelSyncErrorBody> = fc.oneof(
  fc
    .record({
      modelHash: hashArb,
      parentHash: fc.option(hashArb),
      round: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
      schema: fc.string({ maxLength: 64 }).filter((s) => s.length <= 64),
      shapes: fc.array(fc.array(fc.integer({ min: 1, max: 5 }), { maxLength: 3 }), { maxLength: 4 }),
      seed: fc.nat({ max: 255 }),
    })
    .map(({ seed, ...r }) => {
      const params = r.shapes.reduce((n, s) => n + s.reduce((a, b) => a * b, 1), 0)
      const floats = Float32Array.from({ length: params }, (_, i) => (i + seed) / 7)
      return { ...r, data: new Uint8Array(floats.buffer) }
    }),
  fc.record({
    error: fc.constantFrom(
      'not_found' as const,
      'malformed_request' as const,
      'rate_limited' as const,
      'internal' as const,
    ),
    message: fc.string({ maxLength: 200 }).filter((s) => s.length <= 200),
  }),
)

export function modelSyncFrameTarget(): FuzzTarget<{
  request: Frame<ModelSyncRequest>
  response: Frame<ModelSyncResponse | ModelSyncErrorBody>
}> {
  return {
    name: 'model-sync-frames',
    arbitrary: fc.record({
      request: frameArb(modelSyncRequestArb),
      response: frameArb(modelSyncResponseArb),
    }),
    run({ request, response }) {
      const reqBytes = frameBytes(request, encodeModelSyncRequest)
      if (reqBytes !== undefined) {
        const { outcome } = checkFrame(
          request,
          reqBytes,
          decodeModelSyncRequest,
          encodeModelSyncRequest,
          MalformedModelSyncMessageError,
          'model sync request',
        )
        if (outcome.kind !== 'ok') return outcome
      }
      const resBytes = frameBytes(response, encodeModelSyncResponse)
      if (resBytes === undefined) return OK
      const { outcome, decoded } = checkFrame(
        response,
        resBytes,
        decodeModelSyncResponse,
        encodeModelSyncResponse,
        MalformedModelSyncMessageError,
        'model sync response',
      )
      if (outcome.kind !== 'ok' || decoded === undefined || 'error' in (decoded as object)) return outcome
      // the fetched model is loaded from its f32 weights: only the codec's named errors may come out
      const model = decoded as ModelSyncResponse
      try {
        decodeWeights({ encoding: 'f32', shapes: model.shapes, data: model.data })
      } catch (err) {
        if (!(err instanceof ShapeMismatchError || err instanceof InvalidEncodingError)) {
          return { kind: 'crash', detail: `decodeWeights of a fetched model threw ${explain(err)}` }
        }
      }
      return OK
    },
  }
}

// ---- Noise frame length ----

export function noiseFrameLengthTarget(): FuzzTarget<Uint8Array> {
  return {
    name: 'noise-frame-length',
    arbitrary: fc.uint8Array({ maxLength: 8 }),
    run(bytes) {
      try {
        const expected = bytes.length < 2 ? 0 : (bytes[0] << 8) | bytes[1]
        const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
        const asList = { length: bytes.length, getUint16: (at: number) => view.getUint16(at) }
        if (frameLength(bytes) !== expected || frameLength(asList) !== expected) {
          return { kind: 'mismatch', detail: `frame length of ${hex(bytes)}` }
        }
      } catch (err) {
        return { kind: 'crash', detail: `frameLength threw ${explain(err)}` }
      }
      return OK
    },
  }
}

/** Fresh valid messages, each signed as drawn: slower, but fast-check can shrink the message itself. */
export const freshSigned: fc.Arbitrary<SignedMessage> = validUnsignedArb.map((m) => ({
  topic: m.topic,
  ...sealHonest(m.unsigned, m.topic),
}))

/** Every target; `source` supplies valid signed messages (a pool for long runs, `freshSigned` for shrinking). */
export function allTargets(source: fc.Arbitrary<SignedMessage>): FuzzTarget<never>[] {
  return [
    envelopeBytesTarget(),
    envelopeMutationTarget(source),
    envelopeShapedTarget(source),
    respellingTarget(source),
    addedEntryTarget(source),
    deepNestingTarget(source),
    forgedSignatureTarget(source),
    roundTripTarget(source),
    summaryIntakeTarget(source),
    modelUpdateWeightsTarget(),
    alertSyncFrameTarget(source),
    modelSyncFrameTarget(),
    noiseFrameLengthTarget(),
  ] as FuzzTarget<never>[]
}
