import { describe, expect, it } from 'vitest'
import { generateSecretKey, getPublicKey, signWithContext } from './ed25519.ts'
import { verificationCacheStats, verifyWithContextCached } from './verification-cache.ts'

describe('verifyWithContextCached', () => {
  const sk = generateSecretKey()
  const pk = getPublicKey(sk)
  const message = new TextEncoder().encode('an alert')
  const signature = signWithContext(sk, 'shieldwall/alert/1', message)

  it('answers as the verifier does, and the second time from memory', () => {
    const before = verificationCacheStats()
    expect(verifyWithContextCached(signature, 'shieldwall/alert/1', message, pk)).toBe(true)
    expect(verifyWithContextCached(signature, 'shieldwall/alert/1', message, pk)).toBe(true)
    const after = verificationCacheStats()
    expect(after.misses - before.misses).toBe(1)
    expect(after.hits - before.hits).toBe(1)
  })

  it('never reuses a verdict for a different question', () => {
    const flipped = message.slice()
    flipped[0] ^= 1
    expect(verifyWithContextCached(signature, 'shieldwall/alert/1', flipped, pk)).toBe(false)
    expect(verifyWithContextCached(signature, 'shieldwall/alert/2', message, pk)).toBe(false)
    const otherKey = getPublicKey(generateSecretKey())
    expect(verifyWithContextCached(signature, 'shieldwall/alert/1', message, otherKey)).toBe(false)
    // and the right question still verifies after the wrong ones were cached
    expect(verifyWithContextCached(signature, 'shieldwall/alert/1', message, pk)).toBe(true)
  })

  it('says false for input that is not bytes, without throwing', () => {
    expect(verifyWithContextCached('x' as unknown as Uint8Array, 'c', message, pk)).toBe(false)
  })
})
