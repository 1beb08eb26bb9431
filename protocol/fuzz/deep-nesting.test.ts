import { describe, expect, it } from 'vitest'
import { decodeCanonical } from '../envelope/cbor.ts'
import { decodeEnvelope, MalformedEnvelopeError } from '../envelope/envelope.ts'
import { signedPool } from './arbitraries.ts'
import { withDeepField } from './targets.ts'

describe('decodeEnvelope on a body nested thousands deep', () => {
  // Found by the fuzzer: cborg decodes a few thousand levels more than its encoder can re-encode on the same
  // stack, so the canonical-encoding check overflowed outside the decoder's try and a bare RangeError escaped.
  // How deep either one goes depends on the stack in use and on what the JIT has compiled, so the test finds
  // the deepest body the decoder reads here and now, then tries depths just under it.
  it('throws only MalformedEnvelopeError, whatever the depth', () => {
    const [msg] = signedPool(1, 7)
    const decoded = decodeCanonical(msg.bytes) as Record<string, unknown>
    const deep = (depth: number) => withDeepField(decoded, 'body', depth, [0x81])
    const decodes = (depth: number) => {
      try {
        decodeCanonical(deep(depth))
        return true
      } catch {
        return false
      }
    }
    let lo = 100
    let hi = 60_000
    while (hi - lo > 16) {
      const mid = (lo + hi) >> 1
      if (decodes(mid)) lo = mid
      else hi = mid
    }
    const escaped: string[] = []
    for (let depth = lo; depth > lo * 0.8; depth -= Math.ceil(lo / 100)) {
      try {
        decodeEnvelope(deep(depth))
      } catch (err) {
        if (!(err instanceof MalformedEnvelopeError)) escaped.push(`${depth}: ${(err as Error).name}`)
      }
    }
    expect(escaped).toEqual([])
  })

  // Found by the fuzzer: cborg's encoder looks for reference cycles by walking every enclosing container, so the
  // canonical re-encoding costs time quadratic in nesting depth: a 6 KB body nested 5,000 deep took ~150 ms of
  // main-thread CPU to refuse (seconds on a worker's larger stack), ~75 signature verifications. Our messages
  // nest four levels at most; a body nested deeper than that allows is refused before it is re-encoded.
  it('refuses a body nested far deeper than any message type before re-encoding it', () => {
    const [msg] = signedPool(1, 7)
    const decoded = decodeCanonical(msg.bytes) as Record<string, unknown>
    for (const prefix of [[0x81], [0xa1, 0x60], [0x82, 0x00]]) {
      expect(() => decodeEnvelope(withDeepField(decoded, 'body', 1000, prefix))).toThrow(/nested/)
    }
    // what the message types need still decodes
    expect(() => decodeEnvelope(withDeepField(decoded, 'body', 6, [0x81]))).not.toThrow()
  })
})
