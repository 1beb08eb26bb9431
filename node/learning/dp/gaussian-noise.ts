/**
 * Standard normal draws for the Gaussian mechanism. A node adding noise to protect its own records must use a
 * source no one else can predict or replay: `secureGaussian` (the OS CSPRNG, 53-bit uniforms, Box-Muller) is the
 * default. `seededGaussian` is for benchmarks and tests that must be reproducible, and gives no privacy at all
 * to anyone who learns the seed.
 */
import { randomFillSync } from 'node:crypto'
import { mulberry32 } from '../../detect/features/prng.ts'

export type GaussianSource = () => number

function boxMuller(uniform: () => number): GaussianSource {
  let spare = NaN
  return () => {
    if (!Number.isNaN(spare)) {
      const s = spare
      spare = NaN
      return s
    }
    let u = uniform()
    while (u === 0) u = uniform()
    const r = Math.sqrt(-2 * Math.log(u))
    const t = 2 * Math.PI * uniform()
    spare = r * Math.sin(t)
    return r * Math.cos(t)
  }
}

const SECURE_BUFFER_WORDS = 8192

/** uniform [0, 1) with 53 random bits from the OS CSPRNG, buffered */
function secureUniform(): () => number {
  const words = new Uint32Array(SECURE_BUFFER_WORDS)
  let next = SECURE_BUFFER_WORDS
  return () => {
    if (next + 2 > SECURE_BUFFER_WORDS) {
      randomFillSync(words)
      next = 0
    }
    const hi = words[next++] >>> 5 // 27 bits
    const lo = words[next++] >>> 6 // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992
  }
}

export function secureGaussian(): GaussianSource {
  return boxMuller(secureUniform())
}

export function seededGaussian(seed: number): GaussianSource {
  return boxMuller(mulberry32(seed))
}
