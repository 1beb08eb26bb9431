import { parseIndicator } from '../../protocol/indicator.ts'
import { uuidV5 } from './uuid-v5.ts'

/** What a STIX Indicator is made from: an alert or a blocklist entry, reduced to the fields STIX needs. */
export interface ThreatForStix {
  /** stable id of the source object (alert id, or `block:<id>`), so the STIX id is stable too */
  id: string
  indicator: string
  scenario: string
  /** 0..1 */
  confidence: number
  createdAt: number
  expiresAt: number
  /** peer id of whoever reported it; becomes part of the description */
  reporter?: string
  reasons?: string[]
  severity?: string
}

/** The properties STIX 2.1 requires of an Indicator (§4.7 and the common properties of §3.2). */
export const STIX_INDICATOR_REQUIRED = [
  'type',
  'spec_version',
  'id',
  'created',
  'modified',
  'pattern',
  'pattern_type',
  'valid_from',
] as const

export interface StixIndicator {
  type: 'indicator'
  spec_version: '2.1'
  id: string
  created_by_ref: string
  created: string
  modified: string
  name: string
  description: string
  indicator_types: string[]
  pattern: string
  pattern_type: 'stix'
  valid_from: string
  valid_until: string
  confidence: number
  labels: string[]
  kill_chain_phases: { kill_chain_name: string; phase_name: string }[]
}

export interface StixIdentity {
  type: 'identity'
  spec_version: '2.1'
  id: string
  created: string
  modified: string
  name: string
  identity_class: 'system'
}

export interface StixBundle {
  type: 'bundle'
  id: string
  objects: (StixIdentity | StixIndicator)[]
}

/** STIX timestamps are RFC 3339 in UTC with millisecond precision. */
function stamp(ms: number): string {
  return new Date(ms).toISOString()
}

/** `[ipv4-addr:value = '203.0.113.7']`, or ISSUBSET for a CIDR (STIX patterning §9.5). */
export function stixPattern(indicator: string): string {
  const parsed = parseIndicator(indicator)
  const object = parsed.family === 6 ? 'ipv6-addr' : 'ipv4-addr'
  return parsed.isRange
    ? `[${object}:value ISSUBSET '${parsed.canonical}']`
    : `[${object}:value = '${parsed.canonical}']`
}

/** The node itself as the STIX identity that creates its indicators. */
export function stixIdentity(peerId: string, createdAt: number): StixIdentity {
  return {
    type: 'identity',
    spec_version: '2.1',
    id: `identity--${uuidV5(`shieldwall-node:${peerId}`)}`,
    created: stamp(createdAt),
    modified: stamp(createdAt),
    name: `shieldwall node ${peerId}`,
    identity_class: 'system',
  }
}

export function stixIndicator(threat: ThreatForStix, creator: StixIdentity): StixIndicator {
  const validUntil = Math.max(threat.expiresAt, threat.createdAt + 1)
  const by = threat.reporter !== undefined ? ` reported by ${threat.reporter}` : ''
  const why =
    threat.reasons !== undefined && threat.reasons.length > 0 ? `: ${threat.reasons.join('; ')}` : ''
  return {
    type: 'indicator',
    spec_version: '2.1',
    id: `indicator--${uuidV5(`shieldwall:${threat.id}`)}`,
    created_by_ref: creator.id,
    created: stamp(threat.createdAt),
    modified: stamp(threat.createdAt),
    name: `${threat.scenario} from ${threat.indicator}`,
    description: `shieldwall ${threat.scenario}${by}${why}`,
    indicator_types: ['malicious-activity'],
    pattern: stixPattern(threat.indicator),
    pattern_type: 'stix',
    valid_from: stamp(threat.createdAt),
    valid_until: stamp(validUntil),
    confidence: Math.round(Math.min(1, Math.max(0, threat.confidence)) * 100),
    labels: [threat.scenario, ...(threat.severity !== undefined ? [`severity:${threat.severity}`] : [])],
    kill_chain_phases: [{ kill_chain_name: 'mitre-attack', phase_name: killChainPhase(threat.scenario) }],
  }
}

/** Rough ATT&CK tactic for a scenario: brute force is credential access, probing is reconnaissance. */
function killChainPhase(scenario: string): string {
  if (/bf|brute|user-enum|auth/.test(scenario)) return 'credential-access'
  if (/flood|dos/.test(scenario)) return 'impact'
  if (/sqli|xss|traversal|cve|rce|exploit/.test(scenario)) return 'initial-access'
  return 'reconnaissance'
}

export function stixBundle(peerId: string, threats: ThreatForStix[], now: number): StixBundle {
  const creator = stixIdentity(peerId, now)
  const objects = threats.map((t) => stixIndicator(t, creator))
  const bundleName = `shieldwall:${peerId}:${now}:${objects.map((o) => o.id).join(',')}`
  return { type: 'bundle', id: `bundle--${uuidV5(bundleName)}`, objects: [creator, ...objects] }
}
