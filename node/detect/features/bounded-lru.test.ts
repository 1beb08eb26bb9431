import { describe, expect, it } from 'vitest'
import { BoundedLru } from './bounded-lru.ts'

describe('BoundedLru', () => {
  it('evicts the least recently used entry and counts it', () => {
    const evicted: string[] = []
    const lru = new BoundedLru<string, number>(2, (k) => evicted.push(k))
    lru.set('a', 1)
    lru.set('b', 2)
    expect(lru.get('a')).toBe(1) // a is now the most recent
    lru.set('c', 3)
    expect(evicted).toEqual(['b'])
    expect(lru.evictions).toBe(1)
    expect([...lru.keys()]).toEqual(['a', 'c'])
  })

  it('peek does not refresh, set on an existing key does and never evicts', () => {
    const lru = new BoundedLru<string, number>(2)
    lru.set('a', 1)
    lru.set('b', 2)
    expect(lru.peek('a')).toBe(1)
    lru.set('b', 3)
    expect(lru.evictions).toBe(0)
    lru.set('c', 4)
    expect(lru.has('a')).toBe(false)
    expect(lru.peek('b')).toBe(3)
  })

  it('explicit deletes are not evictions', () => {
    const lru = new BoundedLru<number, number>(10)
    lru.set(1, 1)
    expect(lru.delete(1)).toBe(true)
    expect(lru.size).toBe(0)
    expect(lru.evictions).toBe(0)
  })

  it('stays at its cap under a flood of distinct keys', () => {
    const lru = new BoundedLru<string, number>(1000)
    for (let i = 0; i < 100_000; i++) lru.set(`k${i}`, i)
    expect(lru.size).toBe(1000)
    expect(lru.evictions).toBe(99_000)
    expect(lru.keys().next().value).toBe('k99000')
  })

  it('keeps oldestKey right through refreshes, deletes and evictions (against a reference model)', () => {
    const lru = new BoundedLru<number, number>(50)
    const model: number[] = [] // least recent first
    let seed = 1
    const rand = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % n
    for (let i = 0; i < 20_000; i++) {
      const key = rand(120)
      const op = rand(4)
      const at = model.indexOf(key)
      if (op === 0) {
        lru.delete(key)
        if (at !== -1) model.splice(at, 1)
      } else if (op === 1) {
        lru.get(key)
        if (at !== -1) model.push(...model.splice(at, 1))
      } else if (op === 2) {
        lru.oldestKey()
      } else {
        lru.set(key, i)
        if (at !== -1) model.splice(at, 1)
        else if (model.length >= 50) model.shift()
        model.push(key)
      }
      expect(lru.oldestKey()).toBe(model[0])
      expect(lru.size).toBe(model.length)
    }
    expect([...lru.keys()]).toEqual(model)
  })

  it('rejects a size that is not a positive integer', () => {
    expect(() => new BoundedLru(0)).toThrow(expect.objectContaining({ name: 'InvalidLruSizeError' }))
    expect(() => new BoundedLru(1.5)).toThrow(expect.objectContaining({ name: 'InvalidLruSizeError' }))
  })
})
