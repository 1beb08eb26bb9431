/**
 * Seeded pseudo-random numbers for everything that must be reproducible: isolation-forest fits, reservoir
 * sampling and synthetic test traffic. mulberry32 (Tommy Ettinger, 2017): 32 bits of state, period 2^32, fast and
 * good enough for sampling; never for anything secret.
 */
export type Prng = () => number

/** uniform in [0, 1) */
export function mulberry32(seed: number): Prng {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** uniform integer in [0, n) */
export function randomInt(rand: Prng, n: number): number {
  return Math.floor(rand() * n)
}

/** standard normal by Box-Muller (one of the pair is dropped: simplicity over speed, used off the hot path) */
export function gaussian(rand: Prng): number {
  let u = rand()
  while (u === 0) u = rand()
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand())
}
