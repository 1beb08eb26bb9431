import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js'
import { verifyWithContext } from './ed25519.ts'

/** Verdicts remembered; the oldest goes first beyond this. */
export const VERIFICATION_CACHE_SIZE = 16_384

const verdicts = new Map<string, boolean>()
let hits = 0
let misses = 0

function lengthPrefixed(bytes: Uint8Array): Uint8Array[] {
  const n = new Uint8Array(4)
  new DataView(n.buffer).setUint32(0, bytes.length)
  return [n, bytes]
}

/**
 * {@link verifyWithContext}, memoised. An Ed25519 verification costs about a millisecond in JavaScript, a
 * SHA-256 of the same inputs a few microseconds; the same signed message reaches a node more than once (gossip,
 * catch-up, summaries restating alerts), and the simulator runs many nodes in one process. The key is a hash
 * over every input, each length-prefixed, so a verdict is only ever reused for exactly the same question.
 */
export function verifyWithContextCached(
  signature: Uint8Array,
  context: string,
  message: Uint8Array,
  publicKey: Uint8Array,
): boolean {
  let key: string
  try {
    const h = sha256.create()
    for (const part of [signature, utf8ToBytes(context), message, publicKey])
      for (const chunk of lengthPrefixed(part)) h.update(chunk)
    key = bytesToHex(h.digest())
  } catch {
    return false // not bytes: verifyWithContext would say false too
  }
  const known = verdicts.get(key)
  if (known !== undefined) {
    hits++
    return known
  }
  misses++
  const verdict = verifyWithContext(signature, context, message, publicKey)
  if (verdicts.size >= VERIFICATION_CACHE_SIZE) verdicts.delete(verdicts.keys().next().value as string)
  verdicts.set(key, verdict)
  return verdict
}

export function verificationCacheStats(): { size: number; hits: number; misses: number } {
  return { size: verdicts.size, hits, misses }
}
