import { describe, expect, it } from 'vitest'
import { GenerationalCache } from '../generational-cache.ts'
import { GenerationalIpIndex } from './ip-cache.ts'
import { mulberry32 } from '../features/prng.ts'

describe('GenerationalIpIndex', () => {
  it('keeps, promotes and evicts exactly like GenerationalCache', () => {
    for (const [maxSize, pool] of [
      [2, 10],
      [7, 40],
      [100, 300],
      [5000, 20_000],
    ]) {
      const rand = mulberry32(maxSize)
      const reference = new GenerationalCache<string, number>(maxSize)
      const evicted = new Set<number>()
      const index = new GenerationalIpIndex(maxSize, (id) => evicted.add(id))
      const live = new Set<number>()
      let nextId = 0
      const mismatches: string[] = []
      for (let i = 0; i < 100_000; i++) {
        const n = Math.floor(rand() * pool)
        const r = rand()
        const ip =
          r < 0.8
            ? `${(n % 200) + 1}.${n >> 8}.${n & 7}.${(n * 7) % 256}`
            : r < 0.95
              ? `2001:db8::${n.toString(16)}`
              : `0${n}.1.2.3` // not canonical: kept by its text
        const want = reference.get(ip)
        const got = index.get(ip)
        if (got !== (want ?? -1)) mismatches.push(`#${i} ${ip}: ${got}, want ${want}`)
        if (want === undefined && rand() < 0.7) {
          reference.set(ip, nextId)
          index.set(ip, nextId)
          live.add(nextId++)
        } else if (want !== undefined && rand() < 0.05) {
          // replacing a value keeps the entry where it is
          reference.set(ip, nextId)
          index.set(ip, nextId)
          live.delete(want)
          live.add(nextId++)
        }
        if (index.size !== reference.size || index.evictions !== reference.evictions)
          mismatches.push(`#${i}: size ${index.size}/${reference.size}, evictions ${index.evictions}`)
      }
      expect(mismatches.slice(0, 5)).toEqual([])
      expect(index.evictions).toBe(reference.evictions)
      // every id reported evicted is one the reference no longer holds, and vice versa
      const held = new Set(reference.values())
      expect([...live].filter((id) => evicted.has(id) === held.has(id))).toEqual([])
      if (maxSize < pool) expect(evicted.size).toBeGreaterThan(0)
    }
  })
})
