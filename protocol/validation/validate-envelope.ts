import {
  decodeEnvelope,
  MalformedEnvelopeError,
  verifyEnvelopeSignature,
  type Envelope,
} from '../envelope/envelope.ts'
import type { MessageSpec } from '../messages/registry.ts'

/**
 * Gossipsub's three answers. `reject` costs the peer that forwarded the message score, so it is kept for
 * objective faults every honest node agrees on (bad bytes, bad signature). Faults that depend on the local
 * clock or local state (expiry, skew, replay, rate) are `ignore`: an honest relay may see them differently.
 */
export type ValidationAction = 'accept' | 'ignore' | 'reject'

export const VALIDATION_REASONS = {
  oversize: 'reject',
  malformed: 'reject',
  invalid_body: 'reject',
  bad_signature: 'reject',
  /** a peer delivered far more than any honest relay forwards: the flood itself is the misbehaviour */
  flood: 'reject',
  unsupported: 'ignore',
  /** body timestamps later than the envelope's creation (plus skew): a claim about the future */
  implausible_time: 'ignore',
  expired: 'ignore',
  future: 'ignore',
  ttl_too_long: 'ignore',
  replayed: 'ignore',
  rate_limited: 'ignore',
  /** the forwarding peer (or, for catch-up, the sender) used up what its trust allows right now */
  over_budget: 'ignore',
  /**
   * about loopback, a private or special-use range, or a prefix broader than any blocklist weighs: it says
   * nothing about the receiver's network, and an honest node behind NAT can send one by mistake, so it is
   * neither relayed nor stored nor held against anyone
   */
  non_routable: 'ignore',
} as const satisfies Record<string, Exclude<ValidationAction, 'accept'>>

export type ValidationReason = keyof typeof VALIDATION_REASONS

export type Validation<B = unknown> =
  | { action: 'accept'; envelope: Envelope<B> }
  | { action: 'reject' | 'ignore'; reason: ValidationReason; detail: string }

export interface ValidationLimits {
  maxBytes: number
  maxClockSkewMs: number
  maxTtlMs: number
}

export interface FreshnessLimits {
  maxPerSenderPerMinute: number
}

/** What the stateful side knows about a (sender, seq) when the message arrives. */
export interface FreshnessState {
  seen: boolean
  /** messages accepted from this sender in the last 60 s */
  recentFromSender: number
}

export function refuse(reason: ValidationReason, detail: string): Validation<never> {
  return { action: VALIDATION_REASONS[reason], reason, detail }
}

/** An envelope whose header (type, version, time window) passed, signature not yet checked. */
export interface Unverified<B = unknown> {
  action: 'accept'
  /** the body as the schema parsed it, once `checkBody` has run */
  envelope: Envelope<B>
  spec: MessageSpec
  /**
   * The envelope exactly as decoded from the bytes: the signature is checked over this, never over the parsed
   * body, which the schema may have changed (zod drops a `__proto__` key from records, for one) so that bytes
   * the sender never signed would verify.
   */
  received: Envelope
}

/**
 * The cheap half of the pure checks, from the bytes and the clock alone: size, canonical decoding, type and
 * version, expiry, clock skew and lifetime. No schema, no signature: callers put their stateful checks (replay,
 * rates, budgets) between this and the expensive steps.
 */
export function checkHeader(
  bytes: Uint8Array,
  specs: readonly MessageSpec[],
  now: number,
  limits: ValidationLimits,
): Unverified | Validation<never> {
  if (!(bytes instanceof Uint8Array)) return refuse('malformed', 'not bytes')
  if (bytes.length > limits.maxBytes) return refuse('oversize', `${bytes.length} bytes > ${limits.maxBytes}`)
  let envelope: Envelope
  try {
    envelope = decodeEnvelope(bytes)
  } catch (err) {
    if (err instanceof MalformedEnvelopeError) return refuse('malformed', err.message)
    return refuse('malformed', `undecodable: ${(err as Error)?.message ?? String(err)}`)
  }
  const spec = specs.find((s) => s.type === envelope.type && s.version === envelope.version)
  if (spec === undefined)
    return refuse('unsupported', `${envelope.type} v${envelope.version} not carried here`)
  if (envelope.expiresAt <= now) return refuse('expired', `expired ${now - envelope.expiresAt} ms ago`)
  if (envelope.createdAt > now + limits.maxClockSkewMs) {
    return refuse('future', `created ${envelope.createdAt - now} ms in the future`)
  }
  if (envelope.expiresAt - envelope.createdAt > limits.maxTtlMs) {
    return refuse(
      'ttl_too_long',
      `lifetime ${envelope.expiresAt - envelope.createdAt} ms > ${limits.maxTtlMs}`,
    )
  }
  return { action: 'accept', envelope, spec, received: envelope }
}

/**
 * The body against its schema, and the body's own timestamps (`spec.times`) against the envelope's creation:
 * a sender cannot have seen something after it signed, so anything later than `createdAt` plus the skew
 * allowance is a claim about the future and is not stored. Still no signature.
 */
export function checkBody<B>(
  unverified: Unverified,
  limits: Pick<ValidationLimits, 'maxClockSkewMs'>,
): Unverified<B> | Validation<never> {
  const { envelope, spec } = unverified
  const body = spec.body.safeParse(envelope.body)
  if (!body.success) {
    const issue = body.error.issues[0]
    return refuse('invalid_body', `${issue.path.join('.') || 'body'}: ${issue.message}`)
  }
  const latest = envelope.createdAt + limits.maxClockSkewMs
  for (const [field, at] of Object.entries(spec.times?.(body.data) ?? {})) {
    if (at > latest) {
      return refuse(
        'implausible_time',
        `${field} is ${at - envelope.createdAt} ms after the envelope was made`,
      )
    }
  }
  return { ...unverified, envelope: { ...envelope, body: body.data as B } }
}

/**
 * The expensive step, last: the Ed25519ctx signature over the canonical encoding of the envelope as received;
 * the accepted envelope carries the parsed body.
 */
export function checkSignature<B>(unverified: Unverified<B>): Validation<B> {
  if (!verifyEnvelopeSignature(unverified.received)) {
    return refuse('bad_signature', 'signature does not verify')
  }
  return { action: 'accept', envelope: unverified.envelope }
}

/**
 * Everything that can be decided from the bytes and the clock alone, cheapest first: `checkHeader`,
 * `checkBody`, `checkSignature`. Pure, so gossip, the catch-up protocol and the API all judge a message alike.
 * Intakes that hold replay and rate state run the three steps themselves with that state in between, so a
 * message they would drop anyway never costs a signature verification.
 */
export function validateEnvelope<B = unknown>(
  bytes: Uint8Array,
  specs: readonly MessageSpec[],
  now: number,
  limits: ValidationLimits,
): Validation<B> {
  const header = checkHeader(bytes, specs, now, limits)
  if (!isUnverified(header)) return header
  const body = checkBody<B>(header, limits)
  if (!isUnverified(body)) return body
  return checkSignature(body)
}

/** Narrows a step's result: true when the message may go on to the next step. */
export function isUnverified<B>(v: Unverified<B> | Validation<unknown>): v is Unverified<B> {
  return v.action === 'accept' && 'spec' in v
}

/** The stateful half of validation, still pure: the caller looks the state up and records acceptance. */
export function checkFreshness<B>(
  envelope: Envelope<B>,
  state: FreshnessState,
  limits: FreshnessLimits,
): Validation<B> {
  if (state.seen) return refuse('replayed', `seq ${envelope.seq} already seen from this sender`)
  if (state.recentFromSender >= limits.maxPerSenderPerMinute) {
    return refuse('rate_limited', `more than ${limits.maxPerSenderPerMinute} messages in a minute`)
  }
  return { action: 'accept', envelope }
}
