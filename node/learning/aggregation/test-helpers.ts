import type { WeightedUpdate } from './weighted-update.ts'

/** Deterministic PRNG (mulberry32) so robustness tests are reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Standard normal by Box-Muller. */
export function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random())
}

export function updatesOf(vectors: number[][], weights?: number[]): WeightedUpdate[] {
  return vectors.map((v, i) => ({ delta: Float32Array.from(v), weight: weights?.[i] ?? 1 }))
}
