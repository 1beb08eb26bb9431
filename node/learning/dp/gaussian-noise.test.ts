import { describe, expect, it } from 'vitest'
import { secureGaussian, seededGaussian } from './gaussian-noise.ts'

function moments(draw: () => number, n: number) {
  let s = 0
  let sq = 0
  for (let i = 0; i < n; i++) {
    const v = draw()
    s += v
    sq += v * v
  }
  return { mean: s / n, variance: sq / n - (s / n) ** 2 }
}

describe('gaussian sources', () => {
  it('both are standard normal', () => {
    for (const g of [secureGaussian(), seededGaussian(3)]) {
      const { mean, variance } = moments(g, 100_000)
      expect(Math.abs(mean)).toBeLessThan(0.02)
      expect(Math.abs(variance - 1)).toBeLessThan(0.03)
    }
  })

  it('the seeded one replays, the secure one does not', () => {
    const a = seededGaussian(9)
    const b = seededGaussian(9)
    expect([a(), a(), a()]).toEqual([b(), b(), b()])
    const s1 = secureGaussian()
    const s2 = secureGaussian()
    expect([s1(), s1()]).not.toEqual([s2(), s2()])
  })
})
