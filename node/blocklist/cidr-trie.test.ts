import { describe, expect, it } from 'vitest'
import { formatIp, indicatorContains, parseIndicator, type Indicator } from '../../protocol/indicator.ts'
import { CidrTrie } from './cidr-trie.ts'
import { mulberry32 as rng } from '../detect/features/prng.ts'

/**
 * Random addresses that share high bits often (a few /8s and /32s of IPv6), so prefixes nest and split the
 * trie at many depths; about a third are full-length hosts.
 */
function randomPrefix(next: () => number): string {
  const v6 = next() < 0.4
  const bytes = new Uint8Array(v6 ? 16 : 4)
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(next() * 256)
  bytes[0] = v6 ? 0x20 : [10, 192, 203][Math.floor(next() * 3)]
  if (v6) bytes[1] = [0x01, 0x0d][Math.floor(next() * 2)]
  else if (next() < 0.5) bytes[1] = 0 // crowd some /16 blocks
  bytes[2] = next() < 0.5 ? 0 : bytes[2]
  const bits = bytes.length * 8
  const prefix = next() < 0.35 ? bits : Math.floor(next() * (bits + 1))
  return parseIndicator(`${formatIp(bytes)}/${prefix}`).canonical
}

function randomAddress(next: () => number, known: string[]): string {
  if (known.length > 0 && next() < 0.5) {
    // an address inside a known prefix, with random host bits
    const p = parseIndicator(known[Math.floor(next() * known.length)])
    const bytes = p.bytes.slice()
    for (let i = 0; i < bytes.length; i++) {
      const keep = Math.min(8, Math.max(0, p.prefix - 8 * i))
      bytes[i] = (bytes[i] & ((0xff00 >> keep) & 0xff)) | (Math.floor(next() * 256) & (0xff >> keep))
    }
    return formatIp(bytes)
  }
  return parseIndicator(randomPrefix(next)).canonical.split('/')[0]
}

class Reference {
  readonly map = new Map<string, { ind: Indicator; value: number }>()
  set(key: string, value: number) {
    this.map.set(key, { ind: parseIndicator(key), value })
  }
  covering(ip: string): number[] {
    const target = parseIndicator(ip)
    return [...this.map.values()]
      .filter((e) => indicatorContains(e.ind, target))
      .sort((a, b) => b.ind.prefix - a.ind.prefix)
      .map((e) => e.value)
  }
  overlapping(key: string): number[] {
    const target = parseIndicator(key)
    return [...this.map.values()]
      .filter((e) => indicatorContains(e.ind, target) || indicatorContains(target, e.ind))
      .map((e) => e.value)
      .sort((a, b) => a - b)
  }
}

describe('CidrTrie', () => {
  it('stores addresses and ranges and finds every covering entry, most specific first', () => {
    const t = new CidrTrie<string>()
    t.set('10.0.0.0/8', 'a').set('10.1.0.0/16', 'b').set('10.1.2.3', 'c').set('0.0.0.0/0', 'all')
    t.set('2001:db8::/32', 'v6').set('2001:db8::1', 'v6host')
    expect(t.covering('10.1.2.3')).toEqual(['c', 'b', 'a', 'all'])
    expect(t.covering('10.1.9.9')).toEqual(['b', 'a', 'all'])
    expect(t.covering('11.0.0.1')).toEqual(['all'])
    expect(t.covering('2001:db8::1')).toEqual(['v6host', 'v6'])
    expect(t.covering('2001:db9::1')).toEqual([])
    expect(t.get('10.1.0.0/16')).toBe('b')
    expect(t.get('10.1.0.0/17')).toBeUndefined()
    expect(t.size).toBe(6)
  })

  it('treats IPv4-mapped IPv6 as IPv4, as protocol/indicator does, and never mixes families', () => {
    const t = new CidrTrie<string>()
    t.set('::ffff:10.0.0.0/104', 'mapped-range').set('::ffff:192.0.2.7', 'mapped-host').set('::/0', 'v6-all')
    expect(t.get('10.0.0.0/8')).toBe('mapped-range')
    expect(t.get('192.0.2.7')).toBe('mapped-host')
    expect(t.covering('10.9.9.9')).toEqual(['mapped-range'])
    expect(t.covering('::ffff:10.9.9.9')).toEqual(['mapped-range'])
    expect(t.covering(new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 7]))).toEqual([
      'mapped-host',
    ])
    expect(t.covering('2001:db8::1')).toEqual(['v6-all'])
    expect([...t.entries()].map(([k]) => k).sort()).toEqual(['10.0.0.0/8', '192.0.2.7', '::/0'])
  })

  it('matches nothing for lookups that are not addresses and throws a named error for bad keys', () => {
    const t = new CidrTrie<number>().set('10.0.0.0/8', 1)
    expect(t.covering('10.0.0.0/8')).toEqual([])
    expect(t.covering('not an ip')).toEqual([])
    expect(t.covers('10.1.1.1')).toBe(true)
    expect(() => t.set('10.0.0.0/33', 1)).toThrow(expect.objectContaining({ name: 'InvalidIndicatorError' }))
  })

  it('agrees with a brute-force reference under random inserts, overwrites and deletes', () => {
    for (const seed of [1, 2, 3, 4]) {
      const next = rng(seed)
      const trie = new CidrTrie<number>()
      const ref = new Reference()
      let value = 0
      for (let step = 0; step < 3000; step++) {
        const keys = [...ref.map.keys()]
        if (keys.length > 0 && next() < 0.3) {
          const key = keys[Math.floor(next() * keys.length)]
          expect(trie.delete(key)).toBe(true)
          ref.map.delete(key)
        } else {
          const key =
            next() < 0.1 && keys.length > 0 ? keys[Math.floor(next() * keys.length)] : randomPrefix(next)
          trie.set(key, ++value)
          ref.set(key, value)
        }
        if (step % 50 === 0) {
          expect(trie.size).toBe(ref.map.size)
          const known = [...ref.map.keys()]
          for (let q = 0; q < 40; q++) {
            const ip = randomAddress(next, known)
            expect(trie.covering(ip), ip).toEqual(ref.covering(ip))
            expect(trie.covers(ip)).toBe(ref.covering(ip).length > 0)
          }
          for (let q = 0; q < 10; q++) {
            const p =
              next() < 0.5 && known.length > 0 ? known[Math.floor(next() * known.length)] : randomPrefix(next)
            expect(trie.get(p)).toBe(ref.map.get(p)?.value)
            expect(
              trie.overlapping(p).sort((a, b) => a - b),
              p,
            ).toEqual(ref.overlapping(p))
          }
        }
      }
      const entries = new Map(trie.entries())
      expect(entries).toEqual(new Map([...ref.map].map(([k, v]) => [k, v.value])))
      expect([...trie.values()].sort((a, b) => a - b)).toEqual([...entries.values()].sort((a, b) => a - b))
      // deleting everything leaves an empty, reusable trie
      for (const key of ref.map.keys()) expect(trie.delete(key)).toBe(true)
      expect(trie.size).toBe(0)
      expect(trie.covering('10.0.0.1')).toEqual([])
      trie.set('10.0.0.0/8', 7)
      expect(trie.covering('10.0.0.1')).toEqual([7])
    }
  })

  it('keeps /16 blocks consistent as their own prefix and the prefixes inside come and go', () => {
    const t = new CidrTrie<string>()
      .set('10.1.0.0/16', 'block')
      .set('10.1.2.0/24', 'inner')
      .set('10.0.0.0/8', 'short')
    expect(t.covering('10.1.2.3')).toEqual(['inner', 'block', 'short'])
    expect(t.overlapping('10.0.0.0/8').sort()).toEqual(['block', 'inner', 'short'])
    expect(t.overlapping('10.1.2.128/25').sort()).toEqual(['block', 'inner', 'short'])
    expect(t.delete('10.1.0.0/16')).toBe(true)
    expect(t.covering('10.1.2.3')).toEqual(['inner', 'short'])
    expect(t.delete('10.1.2.0/24')).toBe(true)
    expect(t.covering('10.1.2.3')).toEqual(['short'])
    expect(t.overlapping('10.1.0.0/16')).toEqual(['short'])
    t.set('10.1.2.3', 'host').set('10.1.2.2/31', 'pair')
    expect(t.covering('10.1.2.3')).toEqual(['host', 'pair', 'short'])
    expect(t.size).toBe(3)
  })

  it('returns false when deleting what is not there, including a glue branch point', () => {
    const t = new CidrTrie<number>().set('10.0.0.0/16', 1).set('10.1.0.0/16', 2)
    // 10.0.0.0/15 exists only as the branch point joining the two
    expect(t.delete('10.0.0.0/15')).toBe(false)
    expect(t.delete('10.0.0.1')).toBe(false)
    expect(t.covering('10.1.0.1')).toEqual([2])
  })
})
