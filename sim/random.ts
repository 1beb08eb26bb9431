import { mulberry32, randomInt, type Prng } from '../node/detect/features/prng.ts'

export type { Prng }
export { randomInt }

/**
 * One seeded stream per purpose (traffic, roles, ...) so adding draws to one does not shift the others: a run
 * with the same seed picks the same hostile nodes whatever the traffic generators do.
 */
export function stream(seed: number, purpose: string): Prng {
  let h = seed >>> 0
  for (let i = 0; i < purpose.length; i++) h = Math.imul(h ^ purpose.charCodeAt(i), 0x01000193) >>> 0
  return mulberry32(h)
}

export function pick<T>(rand: Prng, items: readonly T[]): T {
  if (items.length === 0) throw new RangeError('pick from an empty list')
  return items[randomInt(rand, items.length)] as T
}

/** Fisher-Yates on a copy. */
export function shuffled<T>(rand: Prng, items: readonly T[]): T[] {
  const out = items.slice()
  for (let i = out.length - 1; i > 0; i--) {
    const j = randomInt(rand, i + 1)
    ;[out[i], out[j]] = [out[j] as T, out[i] as T]
  }
  return out
}

/** `k` distinct items (all of them when k >= length). */
export function sample<T>(rand: Prng, items: readonly T[], k: number): T[] {
  return shuffled(rand, items).slice(0, Math.max(0, Math.min(k, items.length)))
}
