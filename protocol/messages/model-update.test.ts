import { describe, expect, it } from 'vitest'
import { generateSecretKey, getPublicKey } from '../../crypto/signing/ed25519.ts'
import { encodeEnvelope, sealEnvelope } from '../envelope/envelope.ts'
import { TOPICS } from '../topics.ts'
import { validateEnvelope, type ValidationLimits } from '../validation/validate-envelope.ts'
import { MODEL_ANNOUNCE_TYPE, MODEL_ANNOUNCE_VERSION, type ModelAnnounceBody } from './model-announce.ts'
import {
  MAX_MODEL_MESSAGE_BYTES,
  MAX_UPDATE_PARAMS,
  MODEL_UPDATE_TYPE,
  MODEL_UPDATE_VERSION,
  ModelUpdateBodyV1,
  exampleBucket,
  type ModelUpdateBody,
} from './model-update.ts'
import { TOPIC_MESSAGES } from './registry.ts'

const NOW = 1_780_000_000_000
const LIMITS: ValidationLimits = {
  maxBytes: MAX_MODEL_MESSAGE_BYTES,
  maxClockSkewMs: 30_000,
  maxTtlMs: 86_400_000,
}
const SPECS = TOPIC_MESSAGES[TOPICS.models]
const secretKey = generateSecretKey()
const HASH = 'ab'.repeat(32)

function update(overrides: Partial<ModelUpdateBody> = {}): ModelUpdateBody {
  return {
    round: 7,
    baseHash: HASH,
    schema: 'nsl-kdd/1',
    encoding: 'f16',
    shapes: [[4, 3], [3]],
    data: new Uint8Array(15 * 2),
    exampleBucket: 1024,
    epsilonSpent: 1.25,
    delta: 1e-5,
    ...overrides,
  }
}

function seal(type: string, version: number, body: unknown): Uint8Array {
  return encodeEnvelope(
    sealEnvelope(
      {
        type,
        version,
        sender: getPublicKey(secretKey),
        seq: 1,
        createdAt: NOW,
        expiresAt: NOW + 60_000,
        body,
      },
      secretKey,
    ),
  )
}

const judge = (body: unknown, type = MODEL_UPDATE_TYPE, version = MODEL_UPDATE_VERSION) =>
  validateEnvelope(seal(type, version, body), SPECS, NOW, LIMITS)

function rejectedWith(body: unknown, problem: RegExp) {
  const verdict = judge(body)
  expect(verdict).toMatchObject({ action: 'reject', reason: 'invalid_body' })
  if (verdict.action !== 'accept') expect(verdict.detail).toMatch(problem)
}

describe('model-update v1 on /shieldwall/models/1', () => {
  it('accepts a signed f16 and i8 update and returns the bytes intact', () => {
    const verdict = judge(update({ data: Uint8Array.from({ length: 30 }, (_, i) => i) }))
    expect(verdict.action).toBe('accept')
    if (verdict.action === 'accept') {
      const body = verdict.envelope.body as ModelUpdateBody
      expect(Array.from(body.data)).toEqual(Array.from({ length: 30 }, (_, i) => i))
      expect(body.delta).toBe(1e-5)
    }
    expect(judge(update({ encoding: 'i8', data: new Uint8Array(15), scales: [0.01, 0.5] })).action).toBe(
      'accept',
    )
  })

  it('rejects data that does not match the shapes', () => {
    rejectedWith(update({ data: new Uint8Array(29) }), /^data: shape_mismatch/)
    rejectedWith(
      update({ encoding: 'i8', data: new Uint8Array(30), scales: [1, 1] }),
      /^data: shape_mismatch/,
    )
    rejectedWith(update({ shapes: [[4, 3], [4]] }), /^data: shape_mismatch/)
  })

  it('rejects missing, extra or misplaced scales', () => {
    rejectedWith(update({ encoding: 'i8', data: new Uint8Array(15) }), /^scales: scales_mismatch/)
    rejectedWith(
      update({ encoding: 'i8', data: new Uint8Array(15), scales: [1] }),
      /^scales: scales_mismatch/,
    )
    rejectedWith(update({ scales: [1, 1] }), /^scales: scales_mismatch/)
    rejectedWith(update({ encoding: 'i8', data: new Uint8Array(15), scales: [-1, 1] }), /^scales\.0/)
  })

  it('rejects too many parameters before looking at the data', () => {
    const result = ModelUpdateBodyV1.safeParse(update({ shapes: [[1024, 1024]], data: new Uint8Array(2) }))
    expect(result.success).toBe(false)
    expect(result.error?.issues[0].message).toMatch(/^too_many_params/)
    expect(MAX_UPDATE_PARAMS).toBe(262_144)
  })

  it('rejects oversized messages at the envelope limit, before decoding', () => {
    const bytes = seal(MODEL_UPDATE_TYPE, 1, update({ shapes: [[300_000]], data: new Uint8Array(600_000) }))
    expect(validateEnvelope(bytes, SPECS, NOW, LIMITS)).toMatchObject({
      action: 'reject',
      reason: 'oversize',
    })
  })

  it('rejects bad shapes, hashes, buckets and privacy fields', () => {
    rejectedWith(update({ shapes: [] }), /^shapes/)
    rejectedWith(update({ shapes: [[0, 3], [3]] }), /^shapes\.0\.0/)
    rejectedWith(update({ shapes: [[1, 1, 1, 1, 15]] }), /^shapes\.0/)
    rejectedWith(update({ baseHash: 'AB'.repeat(32) }), /^baseHash/)
    rejectedWith(update({ baseHash: 'ab' }), /^baseHash/)
    rejectedWith(update({ exampleBucket: 1000 }), /^exampleBucket: not_power_of_two/)
    rejectedWith(update({ exampleBucket: 0 }), /^exampleBucket/)
    rejectedWith(update({ epsilonSpent: -1 }), /^epsilonSpent/)
    rejectedWith(update({ delta: 0 }), /^delta/)
    rejectedWith(update({ encoding: 'f32' as 'f16', data: new Uint8Array(60) }), /^encoding/)
    rejectedWith({ ...update(), count: 1000 }, /unrecognized/i)
    rejectedWith(update({ data: 'AAAA' as unknown as Uint8Array }), /^data/)
  })

  it('buckets example counts down to a power of two', () => {
    expect([0, 1, 2, 3, 1000, 1024, 1025, 2 ** 40].map(exampleBucket)).toEqual([
      0,
      1,
      2,
      2,
      512,
      1024,
      1024,
      2 ** 30,
    ])
  })
})

describe('model-announce v1 on /shieldwall/models/1', () => {
  const announce = (overrides: Partial<ModelAnnounceBody> = {}): ModelAnnounceBody => ({
    modelHash: 'cd'.repeat(32),
    parentHash: HASH,
    round: 8,
    schema: 'nsl-kdd/1',
    metrics: { accuracy: 0.93, f1: 0.91, falsePositiveRate: 0.02, evalExamples: 22544 },
    ...overrides,
  })
  const judgeAnnounce = (body: unknown) => judge(body, MODEL_ANNOUNCE_TYPE, MODEL_ANNOUNCE_VERSION)

  it('accepts an announcement, including the initial model without a parent', () => {
    expect(judgeAnnounce(announce()).action).toBe('accept')
    expect(judgeAnnounce(announce({ parentHash: null, round: 0 })).action).toBe('accept')
  })

  it('rejects self-parenting, bad hashes and too many or badly named metrics', () => {
    const reject = { action: 'reject', reason: 'invalid_body' }
    expect(judgeAnnounce(announce({ parentHash: 'cd'.repeat(32) }))).toMatchObject(reject)
    expect(judgeAnnounce(announce({ modelHash: 'xyz' }))).toMatchObject(reject)
    const many = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`m${i}`, i]))
    expect(judgeAnnounce(announce({ metrics: many }))).toMatchObject(reject)
    expect(judgeAnnounce(announce({ metrics: { 'Bad Name': 1 } }))).toMatchObject(reject)
    expect(judgeAnnounce({ ...announce(), weights: new Uint8Array(4) })).toMatchObject(reject)
  })

  it('alerts are not carried on the models topic', () => {
    expect(judge({}, 'alert', 1)).toMatchObject({ action: 'ignore', reason: 'unsupported' })
  })
})
