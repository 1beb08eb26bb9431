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
  unsupported: 'ignore',
  expired: 'ignore',
  future: 'ignore',
  ttl_too_long: 'ignore',
  replayed: 'ignore',
  rate_limited: 'ignore',
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

/**
 * Everything that can be decided from the bytes and the clock alone: size, encoding, schema, time window and
 * signature, cheapest first. Pure, so gossip, the catch-up protocol and the API all judge a message alike.
 */
export function validateEnvelope<B = unknown>(
  bytes: Uint8Array,
  specs: readonly MessageSpec[],
  now: number,
  limits: ValidationLimits,
): Validation<B> {
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
  const body = spec.body.safeParse(envelope.body)
  if (!body.success) {
    const issue = body.error.issues[0]
    return refuse('invalid_body', `${issue.path.join('.') || 'body'}: ${issue.message}`)
  }
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
  if (!verifyEnvelopeSignature(envelope)) return refuse('bad_signature', 'signature does not verify')
  return { action: 'accept', envelope: { ...envelope, body: body.data as B } }
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
