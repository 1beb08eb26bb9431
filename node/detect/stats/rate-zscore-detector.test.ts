import { describe, expect, it } from 'vitest'
import type { SecurityEvent } from '../../ingest/event.ts'
import type { Finding } from '../detector.ts'
import { mulberry32, randomInt } from '../features/prng.ts'
import { httpEvent, mergeByTime } from '../features/synthetic-traffic.ts'
import { RateZScoreDetector, zConfidence } from './rate-zscore-detector.ts'

/** `perMin` requests a minute at random times for `minutes` */
function steady(ip: string, perMin: number, minutes: number, seed: number): SecurityEvent[] {
  const rand = mulberry32(seed)
  const n = Math.round(perMin * minutes)
  return Array.from({ length: n }, () => httpEvent(randomInt(rand, minutes * 60_000), ip, '/'))
}

function run(detector: RateZScoreDetector, events: SecurityEvent[]): Finding[] {
  const out: Finding[] = []
  let nextTick = 0
  for (const e of events) {
    const f = detector.observe(e)
    if (f !== undefined) out.push(f)
    if (e.time >= nextTick) {
      out.push(...detector.tick(e.time))
      nextTick = e.time + 1_000
    }
  }
  return [...out, ...detector.tick(Infinity)]
}

describe('RateZScoreDetector', () => {
  it('flags an address at 100x the usual rate, and nobody else', () => {
    const normal = Array.from({ length: 300 }, (_, i) =>
      steady(`10.2.${i >> 8}.${i & 255}`, 1 + (i % 6), 10, i),
    )
    const loud = steady('203.0.113.9', 350, 3, 999).map((e) => ({ ...e, time: e.time + 6 * 60_000 }))
    const findings = run(new RateZScoreDetector(), mergeByTime(...normal, loud))
    expect(new Set(findings.map((f) => f.ip))).toEqual(new Set(['203.0.113.9']))
    const [f] = findings
    expect(f).toMatchObject({ detector: 'rate-zscore', scenario: 'http-flood' })
    expect(f.score).toBeGreaterThan(0.7)
    // reported as soon as the window crossed the line, not when it closed
    expect(f.last - f.first).toBeLessThan(60_000)
    expect(f.reasons[0]).toMatch(
      /^sent \d+ requests in its first \d+ s \(a pace of [\d,]+\/min; at least \d+\/min over its 60 s window\); http population median [\d.]+\/min, z = \d+\.\d \(threshold 4, floor 120\/min\)$/,
    )
  })

  it('does not flag a rate that is unusual but under the absolute floor', () => {
    const normal = Array.from({ length: 100 }, (_, i) => steady(`10.3.0.${i}`, 1, 10, i))
    const brisk = steady('203.0.113.10', 60, 10, 77) // 60/min: many sigmas above 1/min, still under 120/min
    expect(run(new RateZScoreDetector(), mergeByTime(...normal, brisk))).toEqual([])
  })

  it('does not judge before it has a population (a quiet site and its only visitor)', () => {
    expect(run(new RateZScoreDetector(), steady('203.0.113.11', 500, 2, 1))).toEqual([])
  })

  it('caps tracked addresses', () => {
    const d = new RateZScoreDetector({ maxIps: 1_000 })
    for (let i = 0; i < 20_000; i++)
      d.observe(httpEvent(i, `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, '/'))
    expect(d.stats()).toMatchObject({ trackedIps: 1_000, evictedIps: 19_000 })
  })

  it('maps z to confidence', () => {
    expect(zConfidence(4, 4)).toBe(0.5)
    expect(zConfidence(8, 4)).toBe(1)
    expect(zConfidence(20, 4)).toBe(1)
  })
})
