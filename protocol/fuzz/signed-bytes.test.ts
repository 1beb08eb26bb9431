import { encode } from 'cborg'
import { describe, expect, it } from 'vitest'
import { decodeCanonical } from '../envelope/cbor.ts'
import { MODEL_ANNOUNCE_TYPE, MODEL_ANNOUNCE_VERSION } from '../messages/model-announce.ts'
import { TOPIC_MESSAGES } from '../messages/registry.ts'
import { TOPICS } from '../topics.ts'
import { validateEnvelope } from '../validation/validate-envelope.ts'
import { FUZZ_LIMITS, FUZZ_NOW, sealHonest } from './arbitraries.ts'
import { objectOf } from './mutations.ts'

// Found by bench/fuzz (envelope-fields, seed 1407002): the signature must cover the bytes that arrived, not the
// body as the schema parsed it. zod's record parser silently drops a `__proto__` key (prototype-pollution
// guard), so verifying the parsed body let anyone add `"__proto__": <anything>` to a signed model announce's
// metrics: new bytes (a new message id, up to the size limit of junk) that still "verify" as the honest sender's.
describe('a signed model announce with an entry added to its metrics', () => {
  const announce = () =>
    sealHonest(
      {
        type: MODEL_ANNOUNCE_TYPE,
        version: MODEL_ANNOUNCE_VERSION,
        sender: new Uint8Array(32),
        seq: 9,
        createdAt: FUZZ_NOW - 1000,
        expiresAt: FUZZ_NOW + 60_000,
        body: {
          modelHash: 'ab'.repeat(32),
          parentHash: null,
          round: 12,
          schema: 'nsl-kdd/1',
          metrics: { accuracy: 0.93, f1: 0.9 },
        },
      },
      TOPICS.models,
    )

  const withMetricsEntry = (bytes: Uint8Array, key: string, value: unknown) => {
    const decoded = decodeCanonical(bytes) as { body: { metrics: Record<string, unknown> } }
    decoded.body.metrics = objectOf([...Object.entries(decoded.body.metrics), [key, value]])
    return encode(decoded)
  }

  const judge = (bytes: Uint8Array) =>
    validateEnvelope(bytes, TOPIC_MESSAGES[TOPICS.models], FUZZ_NOW, FUZZ_LIMITS[TOPICS.models])

  it('is accepted as sealed', () => {
    expect(judge(announce().bytes).action).toBe('accept')
  })

  it('is not accepted when the entry is `__proto__` (the signature covers the received bytes)', () => {
    const { bytes } = announce()
    const forged = withMetricsEntry(bytes, '__proto__', new Uint8Array(50_000))
    expect(forged.length).toBeGreaterThan(bytes.length + 50_000)
    expect(judge(forged).action).not.toBe('accept')
  })

  it('is not accepted when the entry is an ordinary metric name', () => {
    const { bytes } = announce()
    expect(judge(withMetricsEntry(bytes, 'recall', 0.5))).toMatchObject({ reason: 'bad_signature' })
  })
})
