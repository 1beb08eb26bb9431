import { describe, expect, it } from 'vitest'
import { canonicalIp, ipv4Key, ipv4KeyOf, isIpv4 } from './ip.ts'

describe('canonicalIp', () => {
  it('returns valid IPv4 unchanged and rejects malformed dotted quads', () => {
    const s = '203.0.113.9'
    expect(canonicalIp(s)).toBe(s)
    expect(canonicalIp('0.0.0.0')).toBe('0.0.0.0')
    expect(canonicalIp('255.255.255.255')).toBe('255.255.255.255')
    for (const bad of [
      '256.1.1.1',
      '1.2.3',
      '1.2.3.4.5',
      '1..2.3',
      '192.030.0.6',
      '01.2.3.4',
      '1.2.3.4 ',
      'a.b.c.d',
      '',
    ])
      expect(canonicalIp(bad), bad).toBeUndefined()
  })

  it('reads a range of a longer string', () => {
    const line = 'from 198.51.100.7 port 22'
    expect(canonicalIp(line, 5, 17)).toBe('198.51.100.7')
    expect(isIpv4(line, 5, 17)).toBe(true)
  })

  it('canonicalises IPv6 per RFC 5952', () => {
    const cases: [string, string][] = [
      ['2001:DB8::1', '2001:db8::1'],
      ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // first of two equal runs
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group stays
      ['2001:db8::0:1', '2001:db8::1'],
      ['::', '::'],
      ['::1', '::1'],
      ['1::', '1::'],
      ['fe80::1%eth0', 'fe80::1'],
      ['aaaa:bbbb:cccc:1234::1:1', 'aaaa:bbbb:cccc:1234::1:1'],
      ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
    ]
    for (const [input, want] of cases) expect(canonicalIp(input), input).toBe(want)
  })

  it('maps IPv4-mapped IPv6 to IPv4', () => {
    expect(canonicalIp('::ffff:1.2.3.4')).toBe('1.2.3.4')
    expect(canonicalIp('::FFFF:C000:0201')).toBe('192.0.2.1')
    expect(canonicalIp('0:0:0:0:0:ffff:203.0.113.9')).toBe('203.0.113.9')
  })

  it('rejects invalid IPv6 and host names', () => {
    for (const bad of [
      '1:2:3:4:5:6:7:8:9',
      '1::2::3',
      '12345::1',
      ':1',
      '1:',
      '1:2:3:4:5:6:7',
      'g::1',
      '::ffff:1.2.3',
      '1:2:3:4:5:6:7::8:9',
      'example.com',
      '[preauth]',
      'port',
    ])
      expect(canonicalIp(bad), bad).toBeUndefined()
  })
})

describe('ipv4Key', () => {
  it('maps canonical dotted quads to their 32-bit value', () => {
    expect(ipv4Key('1.2.3.4')).toBe(0x01020304)
    expect(ipv4Key('255.255.255.255')).toBe(-1)
    expect(ipv4Key('10.0.0.1')).toBe(0x0a000001)
    expect(ipv4Key('192.168.100.200') >>> 0).toBe(0xc0a864c8)
  })

  it('refuses everything else, so distinct strings never share a key', () => {
    for (const text of [
      '0.0.0.0', // the empty-slot marker
      '01.2.3.4',
      '1.2.3.04',
      '1.2.3',
      '1.2.3.4.5',
      '1.2.3.256',
      '1..3.4',
      '.1.2.3',
      '1.2.3.',
      '1.2.3.4 ',
      '1.2.3.4a',
      '::1',
      '2001:db8::1',
      '::ffff:1.2.3.4',
      '',
      'localhost',
    ])
      expect(ipv4Key(text), text).toBe(0)
  })
})

describe('ipv4KeyOf', () => {
  it('gives ipv4Key of the address canonicalIp just read, and of any other address asked', () => {
    for (const line of ['from 203.0.113.9 port', 'from 0.0.0.0 port', 'from 255.255.255.255 port']) {
      const ip = canonicalIp(line, 5, line.indexOf(' port'))!
      expect(ipv4KeyOf(ip), ip).toBe(ipv4Key(ip))
    }
    canonicalIp('198.51.100.7')
    expect(ipv4KeyOf('192.0.2.1')).toBe(ipv4Key('192.0.2.1'))
    expect(ipv4KeyOf('2001:db8::1')).toBe(0)
  })
})
