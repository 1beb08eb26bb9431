import { signWithContext } from '../../crypto/signing/ed25519.ts'
import { verifyWithContextCached } from '../../crypto/signing/verification-cache.ts'
import { bytesEqual, decodeCanonical, encodeCanonical } from './cbor.ts'

/**
 * A signed, versioned message. Everything a node says to the network travels in one of these, so the
 * checks that protect the network (signature, expiry, replay, size) are written once for every type.
 */
export interface Envelope<B = unknown> {
  /** message type, e.g. `alert` */
  type: string
  /** version of that type's body schema */
  version: number
  /** the sender's Ed25519 public key (32 bytes); the sender's libp2p PeerId derives from it */
  sender: Uint8Array
  /** per-sender sequence number, strictly increasing across restarts: (sender, seq) identifies a message */
  seq: number
  /** milliseconds since the epoch */
  createdAt: number
  expiresAt: number
  body: B
  /** Ed25519ctx signature over the canonical encoding of every other field, context `shieldwall/<type>/<version>` */
  signature: Uint8Array
}

export type UnsignedEnvelope<B = unknown> = Omit<Envelope<B>, 'signature'>

export class MalformedEnvelopeError extends Error {
  override name = 'MalformedEnvelopeError'
}

const ENVELOPE_KEYS = ['body', 'createdAt', 'expiresAt', 'sender', 'seq', 'signature', 'type', 'version']
const TYPE_PATTERN = /^[a-z][a-z0-9-]{0,31}$/

/** Domain separation: a signature for one message type can never be replayed as another. */
export function signingContext(type: string, version: number): string {
  return `shieldwall/${type}/${version}`
}

export function signedPayload(envelope: UnsignedEnvelope): Uint8Array {
  const { type, version, sender, seq, createdAt, expiresAt, body } = envelope
  return encodeCanonical({ type, version, sender, seq, createdAt, expiresAt, body })
}

export function sealEnvelope<B>(unsigned: UnsignedEnvelope<B>, secretKey: Uint8Array): Envelope<B> {
  const signature = signWithContext(
    secretKey,
    signingContext(unsigned.type, unsigned.version),
    signedPayload(unsigned),
  )
  return { ...unsigned, signature }
}

export function verifyEnvelopeSignature(envelope: Envelope): boolean {
  return verifyWithContextCached(
    envelope.signature,
    signingContext(envelope.type, envelope.version),
    signedPayload(envelope),
    envelope.sender,
  )
}

export function encodeEnvelope(envelope: Envelope): Uint8Array {
  const { type, version, sender, seq, createdAt, expiresAt, body, signature } = envelope
  return encodeCanonical({ type, version, sender, seq, createdAt, expiresAt, body, signature })
}

const isUint = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0

/**
 * Containers a body may nest. Ours nest four (summary entries, model shapes); the canonical re-encoding below is
 * quadratic in depth (cborg's encoder walks every enclosing container looking for cycles), so a few KB nested
 * thousands deep would cost more than a hundred signature verifications to refuse.
 */
export const MAX_BODY_NESTING = 16

/**
 * Iterative, so the check itself neither recurses nor costs more than one pass over the value. It runs on every
 * message decoded (a summary body is a thousand entries), so values and depths go on two flat stacks rather than
 * a pair allocated per node, and only containers are pushed.
 */
function nestedDeeperThan(value: unknown, limit: number): boolean {
  const values: object[] = []
  const depths: number[] = []
  const push = (v: unknown, depth: number): void => {
    if (v === null || typeof v !== 'object' || v instanceof Uint8Array) return
    values.push(v)
    depths.push(depth)
  }
  push(value, 1)
  while (values.length > 0) {
    const v = values.pop()!
    const depth = depths.pop()!
    if (depth > limit) return true
    if (Array.isArray(v)) for (const child of v) push(child, depth + 1)
    else for (const key in v) if (Object.hasOwn(v, key)) push((v as Record<string, unknown>)[key], depth + 1)
  }
  return false
}

/**
 * Parses wire bytes into an envelope, checking only its shape; the body is left for the type's schema. The
 * bytes must be the canonical encoding of what they decode to, so one message has exactly one spelling and
 * its hash is a stable id.
 */
export function decodeEnvelope(bytes: Uint8Array): Envelope {
  let value: unknown
  try {
    value = decodeCanonical(bytes)
  } catch (err) {
    throw new MalformedEnvelopeError(`not valid CBOR: ${(err as Error).message}`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) {
    throw new MalformedEnvelopeError('envelope is not a map')
  }
  const fields = value as Record<string, unknown>
  const keys = Object.keys(fields).sort()
  if (keys.length !== ENVELOPE_KEYS.length || keys.some((k, i) => k !== ENVELOPE_KEYS[i])) {
    throw new MalformedEnvelopeError(`envelope fields must be exactly ${ENVELOPE_KEYS.join(', ')}`)
  }
  const { type, version, sender, seq, createdAt, expiresAt, body, signature } = fields
  if (typeof type !== 'string' || !TYPE_PATTERN.test(type)) throw new MalformedEnvelopeError('bad type')
  if (!isUint(version) || version < 1 || version > 0xffff) throw new MalformedEnvelopeError('bad version')
  if (!(sender instanceof Uint8Array) || sender.length !== 32)
    throw new MalformedEnvelopeError('bad sender key')
  if (!(signature instanceof Uint8Array) || signature.length !== 64)
    throw new MalformedEnvelopeError('bad signature field')
  if (!isUint(seq)) throw new MalformedEnvelopeError('bad seq')
  if (!isUint(createdAt) || !isUint(expiresAt)) throw new MalformedEnvelopeError('bad timestamps')
  if (expiresAt <= createdAt) throw new MalformedEnvelopeError('expiresAt must be after createdAt')
  if (nestedDeeperThan(body, MAX_BODY_NESTING)) {
    throw new MalformedEnvelopeError(`body nested deeper than ${MAX_BODY_NESTING}`)
  }
  const envelope: Envelope = { type, version, sender, seq, createdAt, expiresAt, body, signature }
  let reencoded: Uint8Array
  try {
    reencoded = encodeEnvelope(envelope)
  } catch (err) {
    // cborg decodes deeper nesting than its encoder can re-encode on the same stack (RangeError)
    throw new MalformedEnvelopeError(`cannot re-encode: ${(err as Error).message}`)
  }
  if (!bytesEqual(reencoded, bytes)) {
    throw new MalformedEnvelopeError('envelope is not canonically encoded')
  }
  return envelope
}
