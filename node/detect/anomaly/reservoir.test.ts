import { describe, expect, it } from 'vitest'
import { VectorReservoir } from './reservoir.ts'

describe('VectorReservoir', () => {
  it('keeps everything until full, then a seeded, bounded sample', () => {
    const a = new VectorReservoir(100, 2, 7, 1_000)
    const b = new VectorReservoir(100, 2, 7, 1_000)
    for (let i = 0; i < 50; i++) a.add([i, -i])
    expect(a.items().map((r) => r[0])).toEqual(Array.from({ length: 50 }, (_, i) => i))
    for (let i = 50; i < 20_000; i++) a.add([i, -i])
    for (let i = 0; i < 20_000; i++) b.add([i, -i])
    expect(a.size).toBe(100)
    expect(a.items().map((r) => r[0])).toEqual(b.items().map((r) => r[0]))
  })

  it('forgets old items: the sample covers about the last `horizon` items', () => {
    const r = new VectorReservoir(200, 1, 1, 2_000)
    for (let i = 0; i < 100_000; i++) r.add([i])
    const values = r.items().map((row) => row[0])
    const recent = values.filter((v) => v >= 100_000 - 10_000).length
    expect(recent).toBeGreaterThan(190) // nearly all from the last 10,000 of 100,000
  })

  it('copies vectors instead of holding them', () => {
    const r = new VectorReservoir(4, 3, 1)
    const v = Float64Array.from([1, 2, 3])
    r.add(v)
    v[0] = 99
    expect(Array.from(r.items()[0])).toEqual([1, 2, 3])
  })
})
