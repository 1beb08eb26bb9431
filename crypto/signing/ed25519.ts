import { ed25519, ed25519ctx } from '@noble/curves/ed25519.js'

/**
 * Ed25519 (RFC 8032) over @noble/curves. This file only checks inputs and picks options; every bit of the
 * arithmetic is noble's.
 *
 * Verification is strict (`zip215: false`, RFC 8032 / FIPS 186-5): non-canonical encodings of R and A are
 * rejected, S must be below the group order, and noble additionally refuses small-order public keys. ZIP-215's
 * permissive rules exist so that every consensus node agrees on the same borderline signatures; our
 * signatures are not consensus-critical, and strictness gives one valid encoding per signature (no
 * malleability: a message id or dedup key derived from signed bytes cannot be forked by re-encoding) and
 * keeps "this key signed that" unambiguous for reputation.
 */

export const SECRET_KEY_LENGTH = 32
export const PUBLIC_KEY_LENGTH = 32
export const SIGNATURE_LENGTH = 64
/** RFC 8032 §5.1: Ed25519ctx contexts are at most 255 bytes; an empty one is not allowed for Ed25519ctx. */
export const MAX_CONTEXT_LENGTH = 255

export class InvalidKeyError extends Error {
  override name = 'InvalidKeyError'
}

export class InvalidContextError extends Error {
  override name = 'InvalidContextError'
}

const STRICT = { zip215: false } as const
const utf8 = new TextEncoder()
// A lone surrogate would be encoded as U+FFFD, so two different strings could name the same context.
const LONE_SURROGATE = /\p{Surrogate}/u

// Same test as noble's: also accepts a Uint8Array made in another realm (worker, vm context).
function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array || (ArrayBuffer.isView(value) && value.constructor.name === 'Uint8Array')
}

function isBytesOfLength(value: unknown, length: number): value is Uint8Array {
  return isBytes(value) && value.length === length
}

function assertSecretKey(secretKey: unknown): asserts secretKey is Uint8Array {
  if (!isBytesOfLength(secretKey, SECRET_KEY_LENGTH)) {
    throw new InvalidKeyError(`secret key must be a ${SECRET_KEY_LENGTH}-byte Uint8Array seed`)
  }
}

function assertMessage(message: unknown): asserts message is Uint8Array {
  if (!isBytes(message)) throw new TypeError('message must be a Uint8Array')
}

/** The context as bytes, or a reason it is unusable. */
function encodeContext(context: unknown): Uint8Array | string {
  if (typeof context !== 'string') return 'context must be a string'
  if (LONE_SURROGATE.test(context)) return 'context is not well-formed Unicode'
  const bytes = utf8.encode(context)
  if (bytes.length === 0 || bytes.length > MAX_CONTEXT_LENGTH) {
    return `context must be 1..${MAX_CONTEXT_LENGTH} bytes of UTF-8, got ${bytes.length}`
  }
  return bytes
}

/** A fresh random 32-byte seed from the platform CSPRNG. */
export function generateSecretKey(): Uint8Array {
  return ed25519.utils.randomSecretKey()
}

export function getPublicKey(secretKey: Uint8Array): Uint8Array {
  assertSecretKey(secretKey)
  return ed25519.getPublicKey(secretKey)
}

/** Plain Ed25519. Prefer {@link signWithContext} for protocol messages so signatures cannot cross types. */
export function sign(secretKey: Uint8Array, message: Uint8Array): Uint8Array {
  assertSecretKey(secretKey)
  assertMessage(message)
  return ed25519.sign(message, secretKey)
}

/** Never throws: inputs come from the network, so anything malformed is simply not a valid signature. */
export function verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (!isBytesOfLength(signature, SIGNATURE_LENGTH) || !isBytes(message)) return false
  if (!isBytesOfLength(publicKey, PUBLIC_KEY_LENGTH)) return false
  try {
    return ed25519.verify(signature, message, publicKey, STRICT)
  } catch {
    return false
  }
}

/**
 * Ed25519ctx (RFC 8032 §5.1). `context` names what is being signed (e.g. `shieldwall/alert/1`), so a
 * signature over one message type never verifies as another even when the bytes coincide.
 */
export function signWithContext(secretKey: Uint8Array, context: string, message: Uint8Array): Uint8Array {
  assertSecretKey(secretKey)
  const ctx = encodeContext(context)
  if (typeof ctx === 'string') throw new InvalidContextError(ctx)
  assertMessage(message)
  return ed25519ctx.sign(message, secretKey, { context: ctx })
}

/** Never throws, like {@link verify}; a malformed context is also just `false`. */
export function verifyWithContext(
  signature: Uint8Array,
  context: string,
  message: Uint8Array,
  publicKey: Uint8Array,
): boolean {
  if (!isBytesOfLength(signature, SIGNATURE_LENGTH) || !isBytes(message)) return false
  if (!isBytesOfLength(publicKey, PUBLIC_KEY_LENGTH)) return false
  const ctx = encodeContext(context)
  if (typeof ctx === 'string') return false
  try {
    return ed25519ctx.verify(signature, message, publicKey, { context: ctx, zip215: false })
  } catch {
    return false
  }
}
