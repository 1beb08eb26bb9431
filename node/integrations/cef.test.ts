import { describe, expect, it } from 'vitest'
import { toCef } from './cef.ts'

describe('toCef', () => {
  it('writes the seven header fields and the attacker as src', () => {
    const line = toCef({
      scenario: 'ssh-bf',
      indicator: '203.0.113.7',
      confidence: 0.9,
      severity: 'high',
      time: 1_790_000_000_000,
      reporter: '12D3KooWPeer',
      action: 'block',
    })
    const parts = line.split('|')
    expect(parts.slice(0, 7)).toEqual([
      'CEF:0',
      'shieldwall',
      'shieldwall',
      '0.1.0',
      'ssh-bf',
      'block ssh-bf from 203.0.113.7',
      '8',
    ])
    expect(parts[7]).toContain('src=203.0.113.7')
    expect(parts[7]).toContain('cs1=12D3KooWPeer cs1Label=reporter')
    expect(parts[7]).toContain('rt=1790000000000')
  })

  it('escapes what would break a SIEM parser: pipes in the header, = and newlines in values', () => {
    const line = toCef({
      scenario: 'manual',
      indicator: '2001:db8::/32',
      confidence: 1,
      time: 0,
      message: 'a=b\nsecond | line\\',
    })
    expect(line).toContain('c6a2=2001:db8::')
    expect(line).toContain('cs2=2001:db8::/32')
    expect(line).toContain('msg=a\\=b\\nsecond | line\\\\')
    expect(line.split('\n')).toHaveLength(1)
    expect(toCef({ scenario: 'a|b', indicator: '192.0.2.1', confidence: 0, time: 0 })).toContain('|a\\|b|')
  })
})
