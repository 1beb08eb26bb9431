import { describe, expect, it } from 'vitest'
import { isIP } from 'node:net'
import { formatIp, isIpv4Mapped, parseIp } from './indicator-ip.ts'

const bytes = (...values: number[]) => Uint8Array.from(values)
const canonical = (text: string) => {
  const ip = parseIp(text)
  return ip === undefined ? undefined : formatIp(ip)
}

/** Deterministic PRNG (mulberry32) so a failure reproduces. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

describe('parseIp', () => {
  it('parses IPv4 dotted quads', () => {
    expect(parseIp('203.0.113.5')).toEqual(bytes(203, 0, 113, 5))
    expect(parseIp('0.0.0.0')).toEqual(bytes(0, 0, 0, 0))
    expect(parseIp('255.255.255.255')).toEqual(bytes(255, 255, 255, 255))
  })

  it('parses every textual IPv6 form', () => {
    const loopback = new Uint8Array(16)
    loopback[15] = 1
    expect(parseIp('::1')).toEqual(loopback)
    expect(parseIp('0:0:0:0:0:0:0:1')).toEqual(loopback)
    expect(parseIp('0000:0000:0000:0000:0000:0000:0000:0001')).toEqual(loopback)
    expect(parseIp('::')).toEqual(new Uint8Array(16))
    expect(parseIp('2001:DB8::1')).toEqual(parseIp('2001:db8:0:0:0:0:0:1'))
    expect(parseIp('1::')).toEqual(bytes(0, 1, ...new Array(14).fill(0)))
    expect(parseIp('1:2:3:4:5:6:7::')).toEqual(bytes(0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 0))
    expect(parseIp('::2:3:4:5:6:7:8')).toEqual(bytes(0, 0, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8))
    expect(parseIp('1:2:3:4:5:6:1.2.3.4')).toEqual(bytes(0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 1, 2, 3, 4))
    expect(parseIp('64:ff9b::192.0.2.33')).toEqual(
      bytes(0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0, 192, 0, 2, 33),
    )
  })

  it('returns IPv4-mapped IPv6 as the IPv4 address', () => {
    expect(parseIp('::ffff:192.0.2.1')).toEqual(bytes(192, 0, 2, 1))
    expect(parseIp('::FFFF:c000:201')).toEqual(bytes(192, 0, 2, 1))
    expect(parseIp('0:0:0:0:0:ffff:192.0.2.1')).toEqual(bytes(192, 0, 2, 1))
    // IPv4-compatible (deprecated) and NAT64 addresses are different addresses and stay IPv6.
    expect(parseIp('::192.0.2.1')).toHaveLength(16)
    expect(parseIp('::fffe:192.0.2.1')).toHaveLength(16)
  })

  it('rejects what is not a single address', () => {
    for (const text of [
      '',
      ' ',
      '1',
      '1.2.3',
      '1.2.3.4.5',
      '256.0.0.1',
      '1.2.3.-1',
      '1..2.3',
      '.1.2.3',
      '1.2.3.4.',
      '01.2.3.4',
      '1.2.3.04',
      '1.2.3.00',
      '0x1.2.3.4',
      '1.2.3.4 ',
      ' 1.2.3.4',
      '1.2.3.4\n',
      '1.2.3.4/32',
      '1e2.1.1.1',
      '١.٢.٣.٤', // Arabic-Indic digits
      ':',
      ':::',
      '::::',
      ':1::',
      '1::2::3',
      '1:2:3:4:5:6:7:8:9',
      '1:2:3:4:5:6:7',
      '1:2:3:4:5:6:7:8::',
      '::1:2:3:4:5:6:7:8',
      '1::2:3:4:5:6:7:8',
      '12345::',
      '1:',
      ':1',
      'g::',
      '1:2:3:4:5:6:7:1.2.3.4',
      '::1.2.3',
      '::1.2.3.4:5',
      '::ffff:01.2.3.4',
      '::ffff:1.2.3.256',
      '1.2.3.4::',
      'fe80::1%eth0',
      'fe80::1%1',
      '[::1]',
      '::1/128',
      'localhost',
      'example.com',
      '::ffff:1.2.3.4 ',
    ]) {
      expect(parseIp(text), JSON.stringify(text)).toBeUndefined()
    }
    expect(parseIp('1'.repeat(46))).toBeUndefined()
    expect(parseIp(undefined as unknown as string)).toBeUndefined()
    expect(parseIp(1234 as unknown as string)).toBeUndefined()
  })

  it('agrees with node:net isIP on random strings (zone ids aside)', () => {
    const next = random(1)
    const alphabet = '0123456789abcdefABCDEF:.::..1f'
    let accepted = 0
    for (let n = 0; n < 20_000; n++) {
      let text = ''
      const length = Math.floor(next() * 20)
      for (let i = 0; i < length; i++) text += alphabet[Math.floor(next() * alphabet.length)]
      const ours = parseIp(text) !== undefined
      if (ours) accepted++
      expect(ours, JSON.stringify(text)).toBe(isIP(text) !== 0)
    }
    expect(accepted).toBeGreaterThan(100) // the generator does reach valid addresses
  })

  it('agrees with node:net isIP on mutations of valid addresses', () => {
    const next = random(2)
    const seeds = [
      '192.0.2.1',
      '2001:db8::1',
      '::ffff:10.0.0.1',
      '1:2:3:4:5:6:7:8',
      'fe80::',
      '::1.2.3.4',
      '10.255.0.99',
    ]
    const pieces = ['', '0', '1', 'f', ':', '::', '.', '255', '256', '00', 'ffff', '12345']
    for (let n = 0; n < 20_000; n++) {
      const seed = seeds[Math.floor(next() * seeds.length)]
      const at = Math.floor(next() * (seed.length + 1))
      const cut = Math.floor(next() * 3)
      const text = seed.slice(0, at) + pieces[Math.floor(next() * pieces.length)] + seed.slice(at + cut)
      expect(parseIp(text) !== undefined, JSON.stringify(text)).toBe(isIP(text) !== 0)
    }
  })
})

describe('formatIp', () => {
  it('writes IPv4 as a dotted quad without leading zeros', () => {
    expect(formatIp(bytes(10, 0, 0, 1))).toBe('10.0.0.1')
    expect(formatIp(bytes(0, 0, 0, 0))).toBe('0.0.0.0')
  })

  it('follows the RFC 5952 examples', () => {
    // §4.1 leading zeros, §4.2.1 shortest, §4.2.2 no single-group ::, §4.2.3 longest then first, §4.3 lowercase
    const cases: Array<[string, string]> = [
      ['2001:0db8::0001', '2001:db8::1'],
      ['2001:db8:0:0:0:0:2:1', '2001:db8::2:1'],
      ['2001:db8::0:1', '2001:db8::1'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
      ['2001:db8::1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
      ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['2001:DB8::ABCD', '2001:db8::abcd'],
      // §2.1-2.3: all spellings of one address
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['2001:0db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['2001:db8::1:0:0:1', '2001:db8::1:0:0:1'],
      ['2001:db8::0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['2001:0db8::1:0:0:1', '2001:db8::1:0:0:1'],
      ['2001:db8:0:0:1::1', '2001:db8::1:0:0:1'],
      ['2001:db8:0000:0:1::1', '2001:db8::1:0:0:1'],
      ['2001:DB8:0:0:1::1', '2001:db8::1:0:0:1'],
      ['2001:db8:aaaa:bbbb:cccc:dddd:eeee:0001', '2001:db8:aaaa:bbbb:cccc:dddd:eeee:1'],
      ['2001:db8:aaaa:bbbb:cccc:dddd:0:1', '2001:db8:aaaa:bbbb:cccc:dddd:0:1'],
      // edges of the zero-run rule
      ['0:0:0:0:0:0:0:0', '::'],
      ['0:0:0:0:0:0:0:1', '::1'],
      ['1:0:0:0:0:0:0:0', '1::'],
      ['0:1:0:1:0:1:0:1', '0:1:0:1:0:1:0:1'],
      ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
      ['0:0:1:0:0:1:0:0', '::1:0:0:1:0:0'],
      ['1:0:1:0:0:1:0:0', '1:0:1::1:0:0'],
      ['fe80:0:0:0:0:0:0:0', 'fe80::'],
      ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
      ['::0.0.0.1', '::1'],
      ['::192.0.2.1', '::c000:201'],
      // §5: IPv4-mapped is written as the IPv4 address (our normalisation)
      ['::ffff:192.0.2.1', '192.0.2.1'],
      ['::ffff:0:0', '0.0.0.0'],
    ]
    for (const [input, expected] of cases) expect(canonical(input), input).toBe(expected)
  })

  it('matches the WHATWG URL serializer (same compression rules) on random addresses', () => {
    const next = random(3)
    for (let n = 0; n < 5_000; n++) {
      const address = new Uint8Array(16)
      // Many zero groups, so runs and ties are common.
      for (let k = 0; k < 8; k++) {
        if (next() < 0.5) continue
        const w = next() < 0.3 ? 1 + Math.floor(next() * 15) : Math.floor(next() * 0x10000)
        address[2 * k] = w >> 8
        address[2 * k + 1] = w & 0xff
      }
      if (isIpv4Mapped(address)) continue
      const text = formatIp(address)
      expect(text).toBe(new URL(`http://[${text}]/`).hostname.slice(1, -1))
      expect(parseIp(text)).toEqual(address)
      expect(isIP(text)).toBe(6)
    }
  })

  it('round-trips random IPv4 addresses', () => {
    const next = random(4)
    for (let n = 0; n < 2_000; n++) {
      const address = Uint8Array.from({ length: 4 }, () => Math.floor(next() * 256))
      const text = formatIp(address)
      expect(parseIp(text)).toEqual(address)
      expect(isIP(text)).toBe(4)
    }
  })

  it('rejects byte arrays that are not 4 or 16 long', () => {
    for (const bad of [new Uint8Array(0), new Uint8Array(5), new Uint8Array(15), [1, 2, 3, 4], undefined]) {
      expect(() => formatIp(bad as Uint8Array)).toThrow(
        expect.objectContaining({ name: 'InvalidIndicatorError' }),
      )
    }
  })
})
