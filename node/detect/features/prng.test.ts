import { describe, expect, it } from 'vitest'
import { gaussian, mulberry32, randomInt } from './prng.ts'

describe('mulberry32', () => {
  it('is reproducible per seed and differs across seeds', () => {
    const a = mulberry32(42)
    const b = mulberry32(42)
    const c = mulberry32(43)
    const xs = Array.from({ length: 5 }, () => a())
    expect(Array.from({ length: 5 }, () => b())).toEqual(xs)
    expect(Array.from({ length: 5 }, () => c())).not.toEqual(xs)
  })

  it('matches the reference algorithm', () => {
    // 0.6270739405881613 is the first output for seed 1 published by an independent JS implementation's tests;
    // the next two pin our own sequence
    const r = mulberry32(1)
    expect(r()).toBe(0.6270739405881613)
    expect([r(), r()].map((x) => x * 4294967296)).toEqual([11749833, 2265367787])
  })

  it('is uniform enough for sampling', () => {
    const r = mulberry32(7)
    const counts = new Array(10).fill(0)
    let sum = 0
    let sq = 0
    for (let i = 0; i < 100_000; i++) {
      counts[randomInt(r, 10)]++
      const g = gaussian(r)
      sum += g
      sq += g * g
    }
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500)
    expect(Math.abs(sum / 100_000)).toBeLessThan(0.02)
    expect(Math.abs(sq / 100_000 - 1)).toBeLessThan(0.03)
  })
})
