import type { WeightedUpdate } from './weighted-update.ts'

/** Deterministic PRNG so tests are reproducible: the project's one seeded generator. */
export { mulberry32 as seededRandom } from '../../detect/features/prng.ts'

/** Standard normal by Box-Muller. */
export function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random())
}

export function updatesOf(vectors: number[][], weights?: number[]): WeightedUpdate[] {
  return vectors.map((v, i) => ({ delta: Float32Array.from(v), weight: weights?.[i] ?? 1 }))
}
