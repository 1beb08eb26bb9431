import { describe, expect, it } from 'vitest'
import { BlockList } from 'node:net'
import {
  indicatorContains,
  InvalidIndicatorError,
  isCanonicalIndicator,
  MAX_INDICATOR_LENGTH,
  parseIndicator,
  type Indicator,
} from './indicator.ts'

const canonical = (text: string) => parseIndicator(text).canonical

describe('parseIndicator', () => {
  it('parses single addresses', () => {
    expect(parseIndicator('203.0.113.5')).toEqual({
      family: 4,
      bytes: Uint8Array.of(203, 0, 113, 5),
      prefix: 32,
      canonical: '203.0.113.5',
      isRange: false,
    } satisfies Indicator)
    const v6 = parseIndicator('2001:DB8::0:1')
    expect(v6).toMatchObject({ family: 6, prefix: 128, canonical: '2001:db8::1', isRange: false })
    expect(v6.bytes).toHaveLength(16)
    expect(canonical('::')).toBe('::')
    expect(canonical('::1')).toBe('::1')
  })

  it('parses CIDR ranges and clears host bits', () => {
    expect(parseIndicator('10.0.0.0/8')).toMatchObject({
      family: 4,
      prefix: 8,
      canonical: '10.0.0.0/8',
      isRange: true,
    })
    expect(parseIndicator('10.1.2.3/8').bytes).toEqual(Uint8Array.of(10, 0, 0, 0))
    const cases: Array<[string, string]> = [
      ['10.1.2.3/8', '10.0.0.0/8'],
      ['192.168.1.77/26', '192.168.1.64/26'],
      ['192.168.1.77/25', '192.168.1.0/25'],
      ['203.0.113.255/31', '203.0.113.254/31'],
      ['1.2.3.4/0', '0.0.0.0/0'],
      ['255.255.255.255/1', '128.0.0.0/1'],
      ['2001:db8::/32', '2001:db8::/32'],
      ['2001:DB8:1234:5678::1/32', '2001:db8::/32'],
      ['2001:db8:ffff::/33', '2001:db8:8000::/33'],
      ['2001:db8::1/127', '2001:db8::/127'],
      ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/0', '::/0'],
      ['fe80::1234/10', 'fe80::/10'],
      ['2001:db8:0:0:1::1/64', '2001:db8::/64'],
    ]
    for (const [input, expected] of cases) expect(canonical(input), input).toBe(expected)
  })

  it('writes a full-length prefix as a plain address', () => {
    expect(parseIndicator('203.0.113.5/32')).toMatchObject({
      canonical: '203.0.113.5',
      isRange: false,
      prefix: 32,
    })
    expect(parseIndicator('2001:db8::1/128')).toMatchObject({
      canonical: '2001:db8::1',
      isRange: false,
      prefix: 128,
    })
  })

  it('normalises IPv4-mapped IPv6 to IPv4, ranges included', () => {
    expect(parseIndicator('::ffff:192.0.2.1')).toMatchObject({
      family: 4,
      prefix: 32,
      canonical: '192.0.2.1',
    })
    expect(parseIndicator('::FFFF:C000:0201').canonical).toBe('192.0.2.1')
    expect(parseIndicator('::ffff:192.0.2.1/128').canonical).toBe('192.0.2.1')
    expect(parseIndicator('::ffff:10.1.2.3/104')).toMatchObject({
      family: 4,
      prefix: 8,
      canonical: '10.0.0.0/8',
    })
    expect(parseIndicator('::ffff:0:0/96')).toMatchObject({ family: 4, prefix: 0, canonical: '0.0.0.0/0' })
    expect(parseIndicator('::ffff:1.2.3.4/120').bytes).toEqual(Uint8Array.of(1, 2, 3, 0))
    // Shorter than /96 it reaches outside the mapped block: it is an IPv6 range.
    expect(parseIndicator('::ffff:0:0/95')).toMatchObject({ family: 6, canonical: '::fffe:0:0/95' })
    expect(parseIndicator('::ffff:0:0/80')).toMatchObject({ family: 6, canonical: '::/80' })
    // Not mapped: IPv4-compatible and NAT64 stay IPv6.
    expect(parseIndicator('::192.0.2.1').canonical).toBe('::c000:201')
    expect(parseIndicator('64:ff9b::192.0.2.1').canonical).toBe('64:ff9b::c000:201')
  })

  const invalid: Array<[string, RegExp]> = [
    ['', /empty/],
    ['   ', /whitespace/],
    [' 203.0.113.5', /whitespace/],
    ['203.0.113.5 ', /whitespace/],
    ['203.0.113.5\n', /whitespace/],
    ['10.0.0.0/ 8', /whitespace/],
    ['2001:db8::\t1', /whitespace/],
    ['192.168.010.1', /leading zero/],
    ['010.0.0.1', /leading zero/],
    ['1.2.3.00', /leading zero/],
    ['256.1.1.1', /greater than 255/],
    ['1.2.3.999', /greater than 255/],
    ['1.2.3', /4 octets/],
    ['1.2.3.4.5', /more than 4 octets/],
    ['1..3.4', /empty IPv4 octet/],
    ['1.2.3.', /empty IPv4 octet/],
    ['0x7f.0.0.1', /unexpected character/],
    ['2130706433', /greater than 255/],
    ['127', /4 octets/],
    ['10.0.0.0/33', /0\.\.32/],
    ['2001:db8::/129', /0\.\.128/],
    ['10.0.0.0/', /prefix length is empty/],
    ['10.0.0.0/abc', /decimal/],
    ['10.0.0.0/-1', /decimal/],
    ['10.0.0.0/+8', /decimal/],
    ['10.0.0.0/8.0', /decimal/],
    ['10.0.0.0/08', /leading zero/],
    ['10.0.0.0/8/8', /decimal/],
    ['10.0.0.0/1000', /0\.\.32/],
    ['/8', /empty address/],
    ['fe80::1%eth0', /zone ids/],
    ['fe80::1%1/64', /zone ids/],
    ['1::2::3', /more than one "::"/],
    [':::', /more than two colons/],
    ['1:2:3:4:5:6:7:8:9', /more than 8 groups/],
    ['1:2:3:4:5:6:7', /8 groups/],
    ['1:2:3:4:5:6:7:8::', /at least one zero group/],
    ['12345::', /more than 4 hex digits/],
    [':1::', /single colon/],
    ['1::2:', /single colon/],
    ['::ffff:1.2.3.04', /leading zero/],
    ['1:2:3:4:5:6:7:1.2.3.4', /too many groups/],
    ['[2001:db8::1]', /unexpected character/],
    ['example.com', /unexpected character/],
    ['localhost', /unexpected character/],
    ['x'.repeat(MAX_INDICATOR_LENGTH + 1), /longer than 49/],
  ]
  for (const [text, reason] of invalid) {
    it(`rejects ${JSON.stringify(text.length > 20 ? text.slice(0, 20) + '…' : text)}`, () => {
      let error: unknown
      try {
        parseIndicator(text)
      } catch (e) {
        error = e
      }
      expect(error).toBeInstanceOf(InvalidIndicatorError)
      expect((error as Error).name).toBe('InvalidIndicatorError')
      expect((error as Error).message).toMatch(reason)
    })
  }

  it('accepts the longest valid spelling and nothing longer', () => {
    const longest = 'ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128'
    expect(longest).toHaveLength(MAX_INDICATOR_LENGTH)
    expect(canonical(longest)).toBe('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')
    expect(() => parseIndicator('0' + longest)).toThrow(InvalidIndicatorError)
  })

  it('rejects non-strings without crashing', () => {
    for (const bad of [undefined, null, 42, {}, ['1.2.3.4']]) {
      expect(() => parseIndicator(bad as unknown as string)).toThrow(InvalidIndicatorError)
    }
  })
})

describe('isCanonicalIndicator', () => {
  it('accepts only the canonical spelling', () => {
    for (const text of [
      '203.0.113.5',
      '10.0.0.0/8',
      '0.0.0.0/0',
      '2001:db8::/32',
      '::1',
      '::',
      '2001:db8::1:0:0:1',
      '::/0',
    ]) {
      expect(isCanonicalIndicator(text), text).toBe(true)
    }
    for (const text of [
      '10.1.2.3/8', // host bits set
      '203.0.113.5/32',
      '2001:db8::1/128',
      '2001:DB8::1',
      '2001:0db8::1',
      '2001:db8:0:0:0:0:0:1',
      '2001:db8::0:1',
      '2001:db8:0:0:1::1', // compresses the wrong run
      '2001:db8::1:1:1:1:1', // compresses a single zero group
      '::ffff:192.0.2.1',
      '::ffff:10.0.0.0/104',
      ' 203.0.113.5',
      '',
      '010.0.0.1',
      'nonsense',
    ]) {
      expect(isCanonicalIndicator(text), text).toBe(false)
    }
    expect(isCanonicalIndicator(undefined as unknown as string)).toBe(false)
  })

  it('canonical output is a fixed point', () => {
    for (const text of ['10.1.2.3/8', '2001:DB8:0:0:1::1', '::ffff:1.2.3.4/120', 'fe80::1/10', '::0.0.0.1']) {
      const once = canonical(text)
      expect(isCanonicalIndicator(once)).toBe(true)
      expect(canonical(once)).toBe(once)
    }
  })
})

describe('indicatorContains', () => {
  const p = parseIndicator

  it('matches addresses and nested ranges by prefix', () => {
    expect(indicatorContains(p('10.0.0.0/8'), p('10.255.1.2'))).toBe(true)
    expect(indicatorContains(p('10.0.0.0/8'), p('11.0.0.0'))).toBe(false)
    expect(indicatorContains(p('10.0.0.0/8'), p('10.1.0.0/16'))).toBe(true)
    expect(indicatorContains(p('10.1.0.0/16'), p('10.0.0.0/8'))).toBe(false)
    expect(indicatorContains(p('10.0.0.0/8'), p('10.0.0.0/8'))).toBe(true)
    expect(indicatorContains(p('192.168.1.64/26'), p('192.168.1.127'))).toBe(true)
    expect(indicatorContains(p('192.168.1.64/26'), p('192.168.1.128'))).toBe(false)
    expect(indicatorContains(p('192.168.1.64/26'), p('192.168.1.63'))).toBe(false)
    expect(indicatorContains(p('203.0.113.5'), p('203.0.113.5'))).toBe(true)
    expect(indicatorContains(p('203.0.113.5'), p('203.0.113.6'))).toBe(false)
    expect(indicatorContains(p('0.0.0.0/0'), p('255.255.255.255'))).toBe(true)
    expect(indicatorContains(p('2001:db8::/32'), p('2001:db8:ffff::1'))).toBe(true)
    expect(indicatorContains(p('2001:db8::/32'), p('2001:db9::1'))).toBe(false)
    expect(indicatorContains(p('fe80::/10'), p('febf::1'))).toBe(true)
    expect(indicatorContains(p('fe80::/10'), p('fec0::1'))).toBe(false)
  })

  it('never mixes families, but mapped addresses are IPv4', () => {
    expect(indicatorContains(p('::/0'), p('1.2.3.4'))).toBe(false)
    expect(indicatorContains(p('0.0.0.0/0'), p('::1'))).toBe(false)
    expect(indicatorContains(p('10.0.0.0/8'), p('::ffff:10.9.8.7'))).toBe(true)
    expect(indicatorContains(p('::ffff:10.0.0.0/104'), p('10.9.8.7'))).toBe(true)
  })

  it('agrees with node:net BlockList on random ranges and addresses', () => {
    let seed = 7
    const seen = { true: 0, false: 0 }
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32
    const octet = () => Math.floor(next() * 256)
    for (let n = 0; n < 500; n++) {
      const prefix = Math.floor(next() * 33)
      const range = p(`${octet()}.${octet()}.${octet()}.${octet()}/${prefix}`)
      const list = new BlockList()
      list.addSubnet(range.canonical.split('/')[0], range.prefix, 'ipv4')
      for (let m = 0; m < 20; m++) {
        // Half the probes share the range's first bytes, so both outcomes are common.
        const b = range.bytes
        const text =
          next() < 0.5
            ? `${b[0]}.${b[1]}.${octet()}.${octet()}`
            : `${octet()}.${octet()}.${octet()}.${octet()}`
        const expected = list.check(text, 'ipv4')
        seen[`${expected}`]++
        expect(indicatorContains(range, p(text)), `${range.canonical} ∋ ${text}`).toBe(expected)
      }
    }
    for (let n = 0; n < 300; n++) {
      const prefix = Math.floor(next() * 129)
      const groups = Array.from({ length: 8 }, () =>
        (next() < 0.3 ? 0 : Math.floor(next() * 0x10000)).toString(16),
      )
      const range = p(`${groups.join(':')}/${prefix}`)
      const list = new BlockList()
      list.addSubnet(range.canonical.split('/')[0], range.prefix, 'ipv6')
      for (let m = 0; m < 20; m++) {
        const probe = groups
          .map((g, i) => (next() < i / 8 ? Math.floor(next() * 0x10000).toString(16) : g))
          .join(':')
        const ip = p(probe)
        if (ip.family !== 6) continue // BlockList compares mapped addresses across families; we normalise first
        const expected = list.check(probe, 'ipv6')
        seen[`${expected}`]++
        expect(indicatorContains(range, ip), `${range.canonical} ∋ ${probe}`).toBe(expected)
      }
    }
    expect(Math.min(seen.true, seen.false)).toBeGreaterThan(1000)
  })
})
