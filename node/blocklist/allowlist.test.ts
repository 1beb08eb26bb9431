import { describe, expect, it } from 'vitest'
import { Allowlist } from './allowlist.ts'

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
