import { randomBytes } from 'node:crypto'
import { encode } from 'cborg'
import { describe, expect, it } from 'vitest'
import { generateSecretKey, getPublicKey } from '../../crypto/signing/ed25519.ts'
import { decodeCanonical, encodeCanonical } from '../envelope/cbor.ts'
import { encodeEnvelope, sealEnvelope, type Envelope } from '../envelope/envelope.ts'
import { ALERT_TYPE, ALERT_VERSION, type AlertBody } from '../messages/alert.ts'
import { TOPIC_MESSAGES } from '../messages/registry.ts'
import { TOPICS } from '../topics.ts'
import {
  checkBody,
  checkFreshness,
  checkHeader,
  checkSignature,
  isUnverified,
  validateEnvelope,
  type ValidationLimits,
} from './validate-envelope.ts'

const NOW = 1_780_000_000_000
const LIMITS: ValidationLimits = { maxBytes: 4096, maxClockSkewMs: 30_000, maxTtlMs: 30 * 86_400_000 }
const SPECS = TOPIC_MESSAGES[TOPICS.alerts]
const secretKey = generateSecretKey()
const publicKey = getPublicKey(secretKey)

function body(overrides: Partial<AlertBody> = {}): AlertBody {
  return {
    indicator: '203.0.113.7',
    scenario: 'ssh-bf',
    severity: 'high',
    confidence: 0.9,
    events: 12,
    windowSeconds: 60,
    firstSeen: NOW - 60_000,
    lastSeen: NOW - 1000,
    ...overrides,
  }
}

function alert(overrides: Partial<Envelope<AlertBody>> = {}, key = secretKey): Envelope<AlertBody> {
  const { signature: _, ...rest } = sealEnvelope(
    {
      type: ALERT_TYPE,
      version: ALERT_VERSION,
      sender: publicKey,
      seq: 1,
      createdAt: NOW,
      expiresAt: NOW + 3_600_000,
      body: body(),
    },
    key,
  )
  return sealEnvelope({ ...rest, ...overrides }, key)
}

const judge = (bytes: Uint8Array, now = NOW) => validateEnvelope<AlertBody>(bytes, SPECS, now, LIMITS)

describe('validateEnvelope', () => {
  it('accepts a well-formed, signed, current alert and returns its parsed body', () => {
    const verdict = judge(encodeEnvelope(alert()))
    expect(verdict.action).toBe('accept')
    if (verdict.action === 'accept') expect(verdict.envelope.body.indicator).toBe('203.0.113.7')
  })

  it('rejects a forged signature: right sender key, signed by someone else', () => {
    const forged = alert({}, generateSecretKey())
    forged.sender = publicKey
    expect(judge(encodeEnvelope(forged))).toMatchObject({ action: 'reject', reason: 'bad_signature' })
  })

  it('rejects a tampered body (signature from the original)', () => {
    const original = alert()
    const tampered = { ...original, body: { ...original.body, indicator: '198.51.100.1' } }
    expect(judge(encodeEnvelope(tampered))).toMatchObject({ action: 'reject', reason: 'bad_signature' })
  })

  it('rejects a tampered header field', () => {
    const tampered = { ...alert(), expiresAt: NOW + 7_200_000 }
    expect(judge(encodeEnvelope(tampered))).toMatchObject({ reason: 'bad_signature' })
  })

  it('does not accept a signature made for another message type (domain separation)', () => {
    const asOther = alert()
    const retyped = { ...asOther, type: 'blocklist' }
    const specs = [{ ...SPECS[0], type: 'blocklist' }]
    expect(validateEnvelope(encodeEnvelope(retyped), specs, NOW, LIMITS)).toMatchObject({
      reason: 'bad_signature',
    })
  })

  it('ignores an expired envelope and one from the future beyond the skew bound', () => {
    expect(judge(encodeEnvelope(alert()), NOW + 3_600_001)).toMatchObject({
      action: 'ignore',
      reason: 'expired',
    })
    const future = alert({ createdAt: NOW + 60_000, expiresAt: NOW + 3_600_000 })
    expect(judge(encodeEnvelope(future))).toMatchObject({ action: 'ignore', reason: 'future' })
    const withinSkew = alert({ createdAt: NOW + 10_000 })
    expect(judge(encodeEnvelope(withinSkew)).action).toBe('accept')
  })

  it('ignores a lifetime longer than this node allows', () => {
    const long = alert({ expiresAt: NOW + 31 * 86_400_000 })
    expect(judge(encodeEnvelope(long))).toMatchObject({ action: 'ignore', reason: 'ttl_too_long' })
  })

  it('rejects oversize input before decoding it', () => {
    const big = alert({ body: body({ scenario: 'x' }) })
    const bytes = encodeEnvelope(big)
    expect(validateEnvelope(bytes, SPECS, NOW, { ...LIMITS, maxBytes: bytes.length - 1 })).toMatchObject({
      action: 'reject',
      reason: 'oversize',
    })
  })

  it('rejects random bytes, empty input and non-map CBOR without throwing', () => {
    for (let i = 0; i < 200; i++) {
      const verdict = judge(randomBytes(1 + (i % 300)))
      expect(verdict.action).toBe('reject')
      if (verdict.action !== 'accept') expect(verdict.reason).toBe('malformed')
    }
    expect(judge(new Uint8Array())).toMatchObject({ reason: 'malformed' })
    expect(judge(encodeCanonical([1, 2, 3]))).toMatchObject({ reason: 'malformed' })
    expect(judge(encodeCanonical({ type: 'alert' }))).toMatchObject({ reason: 'malformed' })
  })

  it('rejects a non-canonical encoding of a valid envelope', () => {
    const bytes = encodeEnvelope(alert())
    // Same map, keys in a different order: decodes to the same value but is not our one spelling.
    const value = decodeCanonical(bytes) as Record<string, unknown>
    const reordered = Object.fromEntries(Object.entries(value).reverse())
    const nonCanonical = encode(reordered, { mapSorter: () => 0 })
    expect(Buffer.compare(nonCanonical, bytes)).not.toBe(0)
    expect(judge(nonCanonical)).toMatchObject({ action: 'reject', reason: 'malformed' })
  })

  it('rejects a body that breaks the alert schema, naming the field', () => {
    const bad = alert({ body: body({ confidence: 1.5 }) })
    const verdict = judge(encodeEnvelope(bad))
    expect(verdict).toMatchObject({ action: 'reject', reason: 'invalid_body' })
    if (verdict.action !== 'accept') expect(verdict.detail).toContain('confidence')
    const notCanonical = alert({ body: body({ indicator: '10.1.2.3/8' }) })
    expect(judge(encodeEnvelope(notCanonical))).toMatchObject({ reason: 'invalid_body' })
    const extra = alert({ body: { ...body(), note: 'hi' } as AlertBody })
    expect(judge(encodeEnvelope(extra))).toMatchObject({ reason: 'invalid_body' })
  })

  it('ignores types and versions the topic does not carry', () => {
    const v2 = alert({ version: 2 })
    expect(judge(encodeEnvelope(v2))).toMatchObject({ action: 'ignore', reason: 'unsupported' })
  })
})

describe('body times', () => {
  it('ignores an alert whose firstSeen or lastSeen lies beyond its creation plus the skew', () => {
    const years = 3 * 365 * 86_400_000
    const ahead = alert({ body: body({ firstSeen: NOW + years, lastSeen: NOW + years }) })
    expect(judge(encodeEnvelope(ahead))).toMatchObject({ action: 'ignore', reason: 'implausible_time' })
    const lastAhead = alert({ body: body({ lastSeen: NOW + LIMITS.maxClockSkewMs + 1 }) })
    expect(judge(encodeEnvelope(lastAhead))).toMatchObject({ reason: 'implausible_time' })
    const withinSkew = alert({ body: body({ lastSeen: NOW + LIMITS.maxClockSkewMs }) })
    expect(judge(encodeEnvelope(withinSkew)).action).toBe('accept')
  })
})

describe('the steps one by one', () => {
  it('checkHeader and checkBody pass a forgery on: only checkSignature looks at the signature', () => {
    const forged = alert({}, generateSecretKey())
    forged.sender = publicKey
    const header = checkHeader(encodeEnvelope(forged), SPECS, NOW, LIMITS)
    expect(isUnverified(header)).toBe(true)
    if (!isUnverified(header)) return
    const checked = checkBody<AlertBody>(header, LIMITS)
    expect(isUnverified(checked)).toBe(true)
    if (!isUnverified(checked)) return
    expect(checkSignature(checked)).toMatchObject({ action: 'reject', reason: 'bad_signature' })
  })

  it('checkHeader leaves the body alone, checkBody judges it', () => {
    const bad = encodeEnvelope(alert({ body: body({ confidence: 7 }) }))
    const header = checkHeader(bad, SPECS, NOW, LIMITS)
    expect(isUnverified(header)).toBe(true)
    if (isUnverified(header)) expect(checkBody(header, LIMITS)).toMatchObject({ reason: 'invalid_body' })
  })

  it('a refusal is not mistaken for a message that may go on', () => {
    expect(isUnverified(checkHeader(randomBytes(40), SPECS, NOW, LIMITS))).toBe(false)
    expect(isUnverified(judge(encodeEnvelope(alert())))).toBe(false)
  })
})

describe('checkFreshness', () => {
  const envelope = alert()
  it('ignores a replayed (sender, seq)', () => {
    expect(
      checkFreshness(envelope, { seen: true, recentFromSender: 0 }, { maxPerSenderPerMinute: 10 }),
    ).toMatchObject({
      action: 'ignore',
      reason: 'replayed',
    })
  })
  it('ignores a sender over its rate and accepts one under it', () => {
    const limits = { maxPerSenderPerMinute: 10 }
    expect(checkFreshness(envelope, { seen: false, recentFromSender: 10 }, limits)).toMatchObject({
      reason: 'rate_limited',
    })
    expect(checkFreshness(envelope, { seen: false, recentFromSender: 9 }, limits).action).toBe('accept')
  })
})
