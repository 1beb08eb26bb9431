import { describe, expect, it } from 'vitest'
import { FEATURE_COUNT, FEATURE_SCHEMA, type FeatureName } from './feature-schema.ts'
import { httpEvent, sshEvent } from './synthetic-traffic.ts'
import { WindowAccumulator, windowFeatures } from './window-accumulator.ts'

const IP = '198.51.100.7'
const at = (v: Float64Array, name: FeatureName) => v[FEATURE_SCHEMA.names.indexOf(name)]

describe('window features', () => {
  it('computes every feature as FEATURE_DOCS defines it for a known mixed sequence', () => {
    const events = [
      httpEvent(0, IP, '/index.html', { bytes: 1000 }),
      httpEvent(2_000, IP, '/.env', { status: 404, bytes: 100, userAgent: '-' }),
      httpEvent(4_000, IP, '/login?next=/', { method: 'POST', status: 500, bytes: 300 }),
      httpEvent(10_000, IP, '/index.html', { status: 404, bytes: 200 }),
      sshEvent(20_000, IP, 'invalid_user', 'admin'),
      sshEvent(30_000, IP, 'auth_failure', 'root', 3), // "message repeated 3 times"
    ]
    const v = windowFeatures(events)
    expect(v.length).toBe(FEATURE_COUNT)
    // 8 weighted events over 30 s active
    expect(at(v, 'events_log')).toBeCloseTo(Math.log1p(8), 12)
    expect(at(v, 'rate_per_min_log')).toBeCloseTo(Math.log1p(16), 12)
    // failures: two 404s, one 500, invalid_user, auth_failure x3
    expect(at(v, 'error_ratio')).toBeCloseTo(7 / 8, 12)
    expect(at(v, 'http_404_ratio')).toBeCloseTo(2 / 4, 12)
    expect(at(v, 'http_5xx_ratio')).toBeCloseTo(1 / 4, 12)
    // 3 distinct of 4; linear counting on 1024 bits reads -1024 ln(1021/1024) = 3.0044
    expect(at(v, 'distinct_path_ratio')).toBeCloseTo(3.0044 / 4, 3)
    expect(at(v, 'distinct_users_log')).toBeCloseTo(Math.log1p(2.0078), 3)
    expect(at(v, 'ssh_auth_failure_ratio')).toBeCloseTo(3 / 4, 12)
    expect(at(v, 'ssh_invalid_user_ratio')).toBeCloseTo(1 / 4, 12)
    expect(at(v, 'ssh_preauth_ratio')).toBe(0)
    // gaps 2, 2, 6, 10, 10 s: mean 6, population std sqrt(12.8)
    expect(at(v, 'interarrival_mean_log')).toBeCloseTo(Math.log1p(6), 12)
    expect(at(v, 'interarrival_cv_log')).toBeCloseTo(Math.log1p(Math.sqrt(12.8) / 6), 12)
    expect(at(v, 'query_ratio')).toBeCloseTo(1 / 4, 12)
    expect(at(v, 'path_length_norm')).toBeCloseTo((11 + 5 + 13 + 11) / 4 / 256, 12)
    expect(at(v, 'non_get_ratio')).toBeCloseTo(1 / 4, 12)
    expect(at(v, 'scanner_ua_ratio')).toBeCloseTo(1 / 4, 12)
    expect(at(v, 'bytes_per_request_log')).toBeCloseTo(Math.log1p(400), 12)
    expect(at(v, 'sensitive_path_ratio')).toBeCloseTo(1 / 4, 12)
    expect(at(v, 'ssh_share')).toBeCloseTo(4 / 8, 12)
  })

  it('gives a lone event the window length as its gap and the Poisson CV', () => {
    const v = windowFeatures([sshEvent(5_000, IP, 'preauth_disconnect')], 60_000)
    expect(at(v, 'interarrival_mean_log')).toBeCloseTo(Math.log1p(60), 12)
    expect(at(v, 'interarrival_cv_log')).toBeCloseTo(Math.log1p(1), 12)
    expect(at(v, 'rate_per_min_log')).toBeCloseTo(Math.log1p(6), 12) // 1 event over the 10 s floor
    expect(at(v, 'ssh_preauth_ratio')).toBe(1)
    expect(at(v, 'distinct_path_ratio')).toBe(0) // no HTTP requests: empty ratios are 0
  })

  it('scores a perfectly regular bot with CV 0 and keeps the distinct-path estimate close for hundreds', () => {
    const events = Array.from({ length: 500 }, (_, i) => httpEvent(i * 100, IP, `/x/${i}`, { status: 404 }))
    const v = windowFeatures(events)
    expect(at(v, 'interarrival_cv_log')).toBeCloseTo(0, 9)
    expect(at(v, 'distinct_path_ratio')).toBeGreaterThan(0.9)
    expect(at(v, 'distinct_path_ratio')).toBeLessThanOrEqual(1)
  })

  it('starts clean after reset', () => {
    const acc = new WindowAccumulator()
    acc.reset(IP, 0, 60_000)
    acc.add(httpEvent(0, IP, '/.env', { status: 404 }))
    acc.reset('203.0.113.9', 100_000, 60_000)
    acc.add(httpEvent(100_000, '203.0.113.9', '/', { status: 200 }))
    const v = acc.toFeatureVector()
    expect(at(v, 'sensitive_path_ratio')).toBe(0)
    expect(at(v, 'error_ratio')).toBe(0)
    expect(acc.events).toBe(1)
    expect(acc.distinctPaths()).toBeCloseTo(1, 2)
  })
})
