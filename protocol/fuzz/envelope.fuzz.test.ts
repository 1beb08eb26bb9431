import { describe, it } from 'vitest'
import {
  addedEntryTarget,
  deepNestingTarget,
  envelopeBytesTarget,
  envelopeMutationTarget,
  envelopeShapedTarget,
  forgedSignatureTarget,
  freshSigned,
  respellingTarget,
  roundTripTarget,
} from './targets.ts'
import { assertTarget, testPool } from './fuzz-settings.ts'

// Properties over signed envelopes of every message type (alert, blocklist summary, model update, model
// announce), judged on every topic by validateEnvelope. See docs/fuzzing.md.
describe('envelope fuzzing', () => {
  it('arbitrary and hostile CBOR never crashes the decoder or the validator', () => {
    assertTarget(envelopeBytesTarget(), 150)
  })

  it('a byte-level mutation of a signed envelope is never accepted unless it is the original', () => {
    assertTarget(envelopeMutationTarget(testPool()), 150)
  })

  it('field edits (type confusion, specials, oversize, swaps, other sender) never crash and are never accepted', () => {
    assertTarget(envelopeShapedTarget(testPool()), 100)
  })

  it('an entry added to any map of a signed message (`__proto__`, `constructor`, …) is never accepted', () => {
    assertTarget(addedEntryTarget(testPool()), 150)
  })

  it('a signed envelope spelled non-canonically is never accepted', () => {
    assertTarget(respellingTarget(testPool()), 150)
  })

  it('a field nested thousands deep gives the named error, never a stack overflow', () => {
    assertTarget(deepNestingTarget(testPool()), 30)
  })

  it('another key, a transplanted signature or another type’s signing context is never accepted (domain separation)', () => {
    assertTarget(forgedSignatureTarget(testPool()), 60)
  })

  it('valid messages round-trip: decode(encode(x)) is x and they are accepted on their own topic', () => {
    assertTarget(roundTripTarget(freshSigned), 60)
  })
})
