import { describe, expect, it } from 'vitest'
import { stixBundle, stixPattern, type ThreatForStix } from './stix.ts'
import { uuidV5 } from './uuid-v5.ts'

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/
const STIX_ID = /^[a-z][a-z0-9-]+--[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

const threat: ThreatForStix = {
  id: 'a1b2',
  indicator: '203.0.113.7',
  scenario: 'ssh-bf',
  confidence: 0.93,
  createdAt: Date.UTC(2026, 10, 23, 10, 0, 0),
  expiresAt: Date.UTC(2026, 10, 23, 14, 0, 0),
  reporter: '12D3KooWExample',
  reasons: ['ssh-bf: 8 failed logins in 20 s'],
  severity: 'high',
}

describe('uuidV5', () => {
  it('matches the RFC 4122 / Python uuid5 vector for the DNS namespace', () => {
    // python3 -c "import uuid; print(uuid.uuid5(uuid.NAMESPACE_DNS, 'python.org'))"
    expect(uuidV5('python.org', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe(
      '886313e1-3b8a-5372-9b90-0c9aee199e5d',
    )
  })
})

describe('STIX 2.1 export', () => {
  it('writes patterns for addresses and ranges of both families', () => {
    expect(stixPattern('203.0.113.7')).toBe("[ipv4-addr:value = '203.0.113.7']")
    expect(stixPattern('198.51.100.0/24')).toBe("[ipv4-addr:value ISSUBSET '198.51.100.0/24']")
    expect(stixPattern('2001:db8::1')).toBe("[ipv6-addr:value = '2001:db8::1']")
    expect(() => stixPattern('not-an-ip')).toThrow()
  })

  it('produces indicators with every field STIX 2.1 requires, and stable ids', () => {
    const bundle = stixBundle('12D3KooWSelf', [threat], threat.createdAt)
    expect(bundle.type).toBe('bundle')
    expect(bundle.id).toMatch(STIX_ID)
    const [identity, indicator] = bundle.objects
    expect(identity.type).toBe('identity')
    if (indicator.type !== 'indicator') throw new Error('second object is not an indicator')
    // STIX 2.1 §4.7 Indicator required properties, plus the common ones (§3.2)
    for (const key of [
      'type',
      'spec_version',
      'id',
      'created',
      'modified',
      'pattern',
      'pattern_type',
      'valid_from',
    ])
      expect(indicator).toHaveProperty(key)
    expect(indicator.spec_version).toBe('2.1')
    expect(indicator.id).toMatch(STIX_ID)
    expect(indicator.id.startsWith('indicator--')).toBe(true)
    expect(indicator.created).toMatch(RFC3339)
    expect(indicator.valid_from).toMatch(RFC3339)
    expect(Date.parse(indicator.valid_until)).toBeGreaterThan(Date.parse(indicator.valid_from))
    expect(indicator.created_by_ref).toBe(identity.id)
    expect(indicator.confidence).toBe(93)
    expect(indicator.description).toContain('12D3KooWExample')
    expect(indicator.kill_chain_phases[0].phase_name).toBe('credential-access')
    const again = stixBundle('12D3KooWSelf', [threat], threat.createdAt + 5000)
    expect(again.objects[1].id).toBe(indicator.id)
  })
})
