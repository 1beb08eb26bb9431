import { describe, expect, it } from 'vitest'
import { Allowlist, nonRoutable } from './allowlist.ts'

describe('Allowlist', () => {
  it('allows loopback, private and special ranges by default', () => {
    const a = new Allowlist()
    for (const ip of ['127.0.0.1', '::1', '10.2.3.4', '172.31.255.255', '192.168.1.1', '100.64.0.1']) {
      expect(a.isAllowed(ip), ip).toBe(true)
    }
    for (const ip of ['169.254.169.254', 'fd00::1', 'fe80::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1']) {
      expect(a.isAllowed(ip), ip).toBe(true)
    }
    for (const ip of ['203.0.113.5', '172.32.0.1', '2001:db8::1', '8.8.8.8', '::2']) {
      expect(a.isAllowed(ip), ip).toBe(false)
    }
    expect(a.why('10.0.0.1')).toMatchObject({ cidr: '10.0.0.0/8', source: 'private' })
  })

  it('can have private ranges and loopback configured off, and extra ranges on', () => {
    const a = new Allowlist({ privateRanges: false, extra: ['198.51.100.0/24', '2001:DB8::7'] })
    expect(a.isAllowed('10.0.0.1')).toBe(false)
    expect(a.isAllowed('127.0.0.1')).toBe(true)
    expect(a.isAllowed('198.51.100.99')).toBe(true)
    expect(a.isAllowed('2001:db8::7')).toBe(true)
    const none = new Allowlist({ loopback: false, privateRanges: false })
    expect(none.isAllowed('127.0.0.1')).toBe(false)
    expect(none.size).toBe(0)
  })

  it('reports ranges that overlap the allowlist in either direction', () => {
    const a = new Allowlist()
    a.addSelf('203.0.113.5')
    expect(a.overlaps('203.0.113.0/24').map((e) => e.source)).toEqual(['self'])
    expect(a.overlaps('0.0.0.0/0').length).toBeGreaterThan(5)
    expect(a.overlaps('10.1.0.0/16').map((e) => e.cidr)).toEqual(['10.0.0.0/8'])
    expect(a.overlaps('203.0.114.0/24')).toEqual([])
    expect(a.overlaps('2001:db8::/32')).toEqual([])
    expect(a.overlaps('fe80::/9').map((e) => e.cidr)).toEqual(['fe80::/10'])
  })

  it('tells listeners about additions and rejects bad text with a named error', () => {
    const a = new Allowlist()
    const seen: string[] = []
    const off = a.onAdd((e) => seen.push(e.cidr))
    a.add('198.51.100.0/24')
    a.add('198.51.100.0/24') // already there: no second notification
    off()
    a.add('198.51.101.0/24')
    expect(seen).toEqual(['198.51.100.0/24'])
    expect(a.remove('198.51.100.0/24')).toBe(true)
    expect(a.isAllowed('198.51.100.1')).toBe(false)
    expect(() => a.add('300.1.1.1')).toThrow(expect.objectContaining({ name: 'InvalidIndicatorError' }))
  })
})

describe('what never leaves the node', () => {
  it('calls loopback, private and special-use ranges non-routable, and ranges broader than evidence may be', () => {
    const cases: [string, string, string][] = [
      ['127.0.0.1', 'non-routable', '127.0.0.0/8'],
      ['::1', 'non-routable', '::1'],
      ['10.0.0.1', 'non-routable', '10.0.0.0/8'],
      ['172.17.0.1', 'non-routable', '172.16.0.0/12'],
      ['192.168.1.50', 'non-routable', '192.168.0.0/16'],
      ['100.64.1.1', 'non-routable', '100.64.0.0/10'],
      ['169.254.169.254', 'non-routable', '169.254.0.0/16'],
      ['fd12::1', 'non-routable', 'fc00::/7'],
      ['fe80::1', 'non-routable', 'fe80::/10'],
      ['224.0.0.251', 'non-routable', '224.0.0.0/4'],
      ['255.255.255.255', 'non-routable', '240.0.0.0/4'],
      ['0.0.0.0', 'non-routable', '0.0.0.0/8'],
      ['::', 'non-routable', '::'],
      ['ff02::1', 'non-routable', 'ff00::/8'],
      ['10.1.0.0/16', 'non-routable', '10.0.0.0/8'],
      ['0.0.0.0/0', 'too-broad', '0.0.0.0/0'],
      ['8.0.0.0/8', 'too-broad', '8.0.0.0/8'],
      ['::/0', 'too-broad', '::/0'],
    ]
    for (const [value, reason, cidr] of cases) {
      expect(nonRoutable(value), value).toMatchObject({ reason, entry: { cidr } })
    }
  })

  it('leaves public addresses alone, the documentation ranges tests and the simulator attack from included', () => {
    for (const value of [
      '8.8.8.8',
      '192.0.2.10',
      '198.51.100.7',
      '203.0.113.0/24',
      '2001:db8::1',
      '172.32.0.1',
    ]) {
      expect(nonRoutable(value), value).toBeUndefined()
    }
    expect(nonRoutable('not an address')).toBeUndefined()
    expect(nonRoutable('198.51.0.0/16')).toBeUndefined()
    expect(nonRoutable('198.51.0.0/16', { 4: 24, 6: 48 })).toMatchObject({ reason: 'too-broad' })
  })

  it('keeps back everything on this allowlist too, whatever adds it, and private ranges even when allowed to block them', () => {
    const a = new Allowlist({ privateRanges: false, extra: ['198.51.100.77'] })
    a.add('203.0.113.0/28', 'config', 'added through the API')
    a.addSelf('192.0.2.1')
    expect(a.unshareable('198.51.100.77')).toMatchObject({
      reason: 'allowlisted',
      entry: { cidr: '198.51.100.77', source: 'config' },
    })
    expect(a.unshareable('203.0.113.5')).toMatchObject({
      reason: 'allowlisted',
      entry: { note: 'added through the API' },
    })
    expect(a.unshareable('192.0.2.1')).toMatchObject({ reason: 'allowlisted', entry: { source: 'self' } })
    // a range that would take an allowlisted address along with it leaks it just the same
    expect(a.unshareable('203.0.113.0/24')).toMatchObject({ reason: 'allowlisted' })
    expect(a.isAllowed('172.17.0.1')).toBe(false)
    expect(a.unshareable('172.17.0.1')).toMatchObject({ reason: 'non-routable' })
    expect(a.unshareable('198.51.100.78')).toBeUndefined()
  })
})
