import { rm } from 'node:fs/promises'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { alertService } from '../../node/alerts/alert-service.ts'
import { AlertStore } from '../../node/alerts/alert-store.ts'
import { silentLogger } from '../../node/logging/logger.ts'
import { openStore, type Store } from '../../node/store/open-store.ts'
import { SequenceCounter } from '../../node/store/sequence-counter.ts'
import { tempDir } from '../../test/helpers/test-node.ts'
import { decodeCanonical } from '../envelope/cbor.ts'
import { decodeEnvelope } from '../envelope/envelope.ts'
import { VALIDATION_REASONS } from '../validation/validate-envelope.ts'
import { TOPICS } from '../topics.ts'
import { FUZZ_NOW, wasSealedByHonest } from './arbitraries.ts'
import { FUZZ_SEED, runsFor, testPool } from './fuzz-settings.ts'
import { applyByteOps, applyFieldEdits, byteOpsArb, fieldEditArb } from './mutations.ts'
import { encode } from 'cborg'

// The alert service's intake is the gossip, catch-up and API path for alerts: the pure validator with budgets,
// replay and rate state around it and a real level store behind it. Sequences of genuine, mutated, edited and
// replayed alerts from a few forwarding peers must never make it throw, accept anything the honest key did not
// seal, or accept one (sender, seq) twice.
describe('alert intake fuzzing', () => {
  let dir: string
  let store: Store
  let alerts: AlertStore
  let sequence: SequenceCounter

  beforeAll(async () => {
    dir = await tempDir()
    store = await openStore(dir)
    alerts = new AlertStore(store)
    await alerts.open()
    sequence = new SequenceCounter(store)
    await sequence.open()
  })
  afterAll(async () => {
    await store.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('never throws, accepts only sealed alerts, and each (sender, seq) once', async () => {
    const alertsOnly = testPool().filter((m) => m.topic === TOPICS.alerts)
    const step = fc.record({
      msg: alertsOnly,
      damage: fc.oneof(
        fc.constant({ kind: 'none' as const }),
        fc.record({ kind: fc.constant('bytes' as const), ops: byteOpsArb }),
        fc.record({
          kind: fc.constant('fields' as const),
          edits: fc.array(fieldEditArb, { minLength: 1, maxLength: 2 }),
        }),
      ),
      origin: fc.constantFrom('gossip' as const, 'sync' as const, 'local' as const),
      peer: fc.option(fc.constantFrom('peer-a', 'peer-b', 'peer-c'), { nil: undefined }),
    })
    const accepted = new Set<string>()
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 6 }), async (steps) => {
        const service = alertService()({
          // intake never touches pubsub; only start() and publish() do
          pubsub: undefined as never,
          alerts,
          sequence,
          secretKey: new Uint8Array(32).fill(3),
          publicKey: new Uint8Array(32).fill(4),
          logger: silentLogger(),
          clock: () => FUZZ_NOW,
        })
        for (const { msg, damage, origin, peer } of steps) {
          let bytes: Uint8Array
          if (damage.kind === 'bytes') bytes = applyByteOps(msg.bytes, damage.ops, msg.bytes)
          else if (damage.kind === 'fields') {
            try {
              bytes = encode(
                applyFieldEdits(decodeCanonical(msg.bytes) as Record<string, unknown>, damage.edits),
              )
            } catch {
              continue // a hostile value cborg cannot encode: nothing to send
            }
          } else bytes = msg.bytes
          const verdict = await service.intake(bytes, origin, { peer })
          if (verdict.action !== 'accept') {
            expect(VALIDATION_REASONS[verdict.reason]).toBe(verdict.action)
            continue
          }
          expect(wasSealedByHonest(bytes, TOPICS.alerts)).toBe(true)
          const { sender, seq } = decodeEnvelope(bytes)
          const key = `${Buffer.from(sender).toString('hex')}:${seq}`
          expect(accepted.has(key)).toBe(false)
          accepted.add(key)
        }
      }),
      { numRuns: runsFor(60), seed: FUZZ_SEED },
    )
  })
})
