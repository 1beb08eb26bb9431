import { describe, expect, it } from 'vitest'
import { mulberry32, randomInt } from '../features/prng.ts'
import { SpaceSaving } from './space-saving.ts'

describe('SpaceSaving', () => {
  it('keeps every key heavier than total / k, with error bounds that hold', () => {
    const ss = new SpaceSaving(32)
    const rand = mulberry32(5)
    const truth = new Map<string, number>()
    const add = (key: string) => {
      ss.add(key)
      truth.set(key, (truth.get(key) ?? 0) + 1)
    }
    for (let i = 0; i < 50_000; i++) {
      const r = rand()
      if (r < 0.2) add('heavy-a')
      else if (r < 0.3) add('heavy-b')
      else if (r < 0.35) add('heavy-c')
      else add(`noise-${randomInt(rand, 100_000)}`) // an address flood
    }
    const top = ss.top(3)
    expect(top.map((h) => h.key)).toEqual(['heavy-a', 'heavy-b', 'heavy-c'])
    for (const h of ss.top()) {
      const real = truth.get(h.key) ?? 0
      expect(h.count).toBeGreaterThanOrEqual(real)
      expect(h.count - h.error).toBeLessThanOrEqual(real)
    }
    expect(ss.size).toBe(32)
    expect(ss.total).toBe(50_000)
  })

  it('agrees exactly with a straightforward Space-Saving (same evictions, counts and errors)', () => {
    const fast = new SpaceSaving(8)
    const keys: string[] = []
    const counts: number[] = []
    const errors: number[] = []
    const rand = mulberry32(9)
    for (let i = 0; i < 20_000; i++) {
      const key = `k${randomInt(rand, rand() < 0.5 ? 12 : 400)}`
      fast.add(key)
      const at = keys.indexOf(key)
      if (at !== -1) counts[at]++
      else if (keys.length < 8) {
        keys.push(key)
        counts.push(1)
        errors.push(0)
      } else {
        let j = 0
        for (let s = 1; s < 8; s++) if (counts[s] < counts[j]) j = s
        keys[j] = key
        errors[j] = counts[j]
        counts[j]++
      }
    }
    const expected = keys.map((key, i) => ({ key, count: counts[i], error: errors[i] }))
    const byKey = (a: { key: string }, b: { key: string }) => a.key.localeCompare(b.key)
    expect(fast.top().sort(byKey)).toEqual(expected.sort(byKey))
  })

  it('starts over on clear', () => {
    const ss = new SpaceSaving(4)
    ss.add('a', 5)
    ss.clear()
    ss.add('b')
    expect(ss.top()).toEqual([{ key: 'b', count: 1, error: 0 }])
  })
})
