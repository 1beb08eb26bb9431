import { describe, expect, it } from 'vitest'
import { mulberry32, randomInt } from './prng.ts'
import { BoundedLru } from './bounded-lru.ts'
import { IpSlotTable } from './ip-slot-table.ts'
import { formatIpv4, ipv4Key } from '../../ingest/parsers/ip.ts'

/** the table's order, oldest first */
function order(t: IpSlotTable): string[] {
  const out: string[] = []
  for (let s = t.oldest(); s !== -1; s = t.after(s)) out.push(t.ipOf(s))
  return out
}

describe('IpSlotTable', () => {
  it('behaves like a BoundedLru refreshed only on demand (against a reference model)', () => {
    const rand = mulberry32(7)
    const evicted: string[] = []
    const expectedEvicted: string[] = []
    const table = new IpSlotTable(300, (slot) => evicted.push(table.ipOf(slot)))
    const model = new BoundedLru<string, true>(300, (ip) => expectedEvicted.push(ip))
    // mostly IPv4 (canonical and not), some IPv6, over a pool a bit larger than the cap
    const ip = () => {
      const n = randomInt(rand, 500)
      if (n % 17 === 0) return `2001:db8::${n.toString(16)}`
      if (n % 29 === 0) return `10.0.0.0${n % 10}`
      return `198.51.${n >> 8}.${n & 255}`
    }
    for (let i = 0; i < 50_000; i++) {
      const a = ip()
      const op = randomInt(rand, 10)
      const slot = table.find(a)
      expect(slot !== -1).toBe(model.has(a))
      if (op < 6) {
        if (slot === -1) table.add(a)
        else table.moveToBack(slot)
        model.set(a, true)
      } else if (op < 8) {
        if (slot !== -1) table.remove(slot)
        model.delete(a)
      } else if (op === 8) {
        const oldest = table.oldest()
        expect(oldest === -1 ? undefined : table.ipOf(oldest)).toBe(model.oldestKey())
      }
    }
    expect(order(table)).toEqual([...model.keys()])
    expect(evicted).toEqual(expectedEvicted)
    expect(table.size).toBe(model.size)
    expect(table.evictions).toBe(model.evictions)
  })

  it('gives back canonical IPv4 text unchanged', () => {
    for (const ip of ['1.2.3.4', '255.255.255.255', '10.0.0.1', '192.168.100.200'])
      expect(formatIpv4(ipv4Key(ip))).toBe(ip)
  })
})
