import type { SecurityEvent } from '../../ingest/event.ts'
import type { ScenarioSpec } from './scenario-spec.ts'

const HOUR = 3600
const SEC = 1000

/** Failures that mean someone tried to log in and was refused (CrowdSec's `ssh_failed-auth`). */
export function isSshLoginFailure(e: SecurityEvent): boolean {
  switch (e.kind) {
    case 'auth_failure':
    case 'invalid_user':
    case 'max_auth_exceeded':
      return true
    case 'preauth_disconnect':
      // "Disconnected from authenticating user root ..." is a failed attempt; a bare "Connection closed by
      // 1.2.3.4 [preauth]" is often a client that only probed the banner, counted by ssh-scan instead.
      return e.user !== undefined
    default:
      return false
  }
}

const success = (e: SecurityEvent) => e.kind === 'auth_success'

export const SSH_SCENARIOS: ScenarioSpec[] = [
  {
    name: 'ssh-bf',
    service: 'ssh',
    description: 'SSH password guessing: more than 5 failed logins with one leaking away every 10 s',
    filter: isSshLoginFailure,
    resetOn: success,
    capacity: 5,
    leakMs: 10 * SEC,
    quietMs: 60 * SEC,
    severity: 'high',
    confidence: 0.95,
    banSeconds: 4 * HOUR,
    unit: 'failed ssh logins',
  },
  {
    name: 'ssh-bf-user-enum',
    service: 'ssh',
    description: 'SSH user enumeration: more than 5 distinct user names tried, one leaking away every 10 s',
    filter: isSshLoginFailure,
    resetOn: success,
    distinct: (e) => e.user,
    capacity: 5,
    leakMs: 10 * SEC,
    quietMs: 60 * SEC,
    severity: 'high',
    confidence: 0.95,
    banSeconds: 4 * HOUR,
    unit: 'distinct ssh user names',
  },
  {
    name: 'ssh-slow-bf',
    service: 'ssh',
    description: 'Slow SSH password guessing: more than 10 failed logins with one leaking away every 60 s',
    filter: isSshLoginFailure,
    resetOn: success,
    capacity: 10,
    leakMs: 60 * SEC,
    quietMs: 10 * 60 * SEC,
    severity: 'high',
    confidence: 0.9,
    banSeconds: 4 * HOUR,
    unit: 'failed ssh logins',
  },
  {
    name: 'ssh-time-based-bf',
    service: 'ssh',
    description:
      'Paced SSH guessing that stays under rate limits: 4 or more failures within hours, none closer than 60 s',
    filter: isSshLoginFailure,
    resetOn: success,
    capacity: 3,
    leakMs: 2 * HOUR * SEC,
    minGapMs: 60 * SEC,
    quietMs: HOUR * SEC,
    severity: 'medium',
    confidence: 0.85,
    banSeconds: 4 * HOUR,
    unit: 'paced failed ssh logins',
  },
  {
    name: 'ssh-bad-keyexchange-bf',
    service: 'ssh',
    description: 'Repeated SSH handshakes with no common key exchange, cipher or host key type (scanners)',
    filter: (e) => e.kind === 'bad_protocol',
    capacity: 4,
    leakMs: 60 * SEC,
    quietMs: 10 * 60 * SEC,
    severity: 'medium',
    confidence: 0.9,
    banSeconds: 4 * HOUR,
    unit: 'failed ssh key exchanges',
  },
  {
    name: 'ssh-scan',
    service: 'ssh',
    description: 'Repeated SSH connections dropped before authentication or without an identification string',
    filter: (e) =>
      e.kind === 'no_identification' || (e.kind === 'preauth_disconnect' && e.user === undefined),
    resetOn: success,
    capacity: 10,
    leakMs: 60 * SEC,
    quietMs: 10 * 60 * SEC,
    severity: 'low',
    confidence: 0.85,
    banSeconds: HOUR,
    unit: 'pre-authentication disconnects',
  },
]
