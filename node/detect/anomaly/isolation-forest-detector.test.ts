import { describe, expect, it } from 'vitest'
import type { Finding } from '../detector.ts'
import { mulberry32, randomInt } from '../features/prng.ts'
import { browsingSession, mergeByTime, scannerBurst } from '../features/synthetic-traffic.ts'
import { anomalyConfidence, IsolationForestDetector } from './isolation-forest-detector.ts'

const SCANNER = '203.0.113.66'

function traffic() {
  const rand = mulberry32(2024)
  const sessions = Array.from({ length: 500 }, (_, i) =>
    browsingSession(rand, `10.1.${i >> 8}.${i & 255}`, randomInt(rand, 60_000), 15 * 60_000),
  )
  // ten minutes in: 400 requests in one minute to distinct paths, nearly all 404
  return mergeByTime(...sessions, scannerBurst(SCANNER, 10 * 60_000, 60_000, 400))
}

describe('IsolationForestDetector', () => {
  it('flags a scanner among 500 people browsing, naming what gave it away', () => {
    const detector = new IsolationForestDetector({ seed: 11 })
    const findings: Finding[] = []
    const events = traffic()
    let nextTick = 0
    for (const e of events) {
      const f = detector.observe(e)
      if (f !== undefined) findings.push(f)
      if (e.time >= nextTick) {
        findings.push(...detector.tick(e.time))
        nextTick = e.time + 1_000
      }
    }
    findings.push(...detector.tick(Infinity))
    const stats = detector.stats()
    expect(stats.trained).toBe(1)
    const scanner = findings.filter((f) => f.ip === SCANNER)
    expect(scanner.length).toBe(1)
    const [f] = scanner
    expect(f).toMatchObject({ detector: 'iforest', scenario: 'anomaly', events: 400 })
    expect(f.score).toBeGreaterThan(0.5)
    expect(f.reasons.length).toBe(4)
    expect(f.reasons[0]).toMatch(
      /^400 http events in 60 s score 0\.\d\d on the isolation forest \(flagged at 0\.65/,
    )
    expect(f.reasons.slice(1).join(' | ')).toMatch(
      /404 responses 98%|distinct paths|events\/min|bytes\/request|scanner-like/,
    )
    // ordinary visitors stay quiet: at most 1% of their scored windows are flagged
    const benign = findings.filter((x) => x.ip !== SCANNER)
    expect(benign.length).toBeLessThanOrEqual(stats.scoredWindows / 100)
  })

  it('maps scores to confidence: 0.5 is nothing, 0.75 and above is high', () => {
    expect(anomalyConfidence(0.45)).toBe(0)
    expect(anomalyConfidence(0.5)).toBe(0)
    expect(anomalyConfidence(0.65)).toBeCloseTo(0.5, 9)
    expect(anomalyConfidence(0.75)).toBeGreaterThan(0.8)
    expect(anomalyConfidence(0.9)).toBe(1)
  })

  it('stays silent until it has seen enough windows to know what is normal', () => {
    const detector = new IsolationForestDetector({ minSamples: 256 })
    const out = scannerBurst(SCANNER, 0, 60_000, 400).map((e) => detector.observe(e))
    expect(out.filter((f) => f !== undefined)).toEqual([])
    expect(detector.tick(Infinity)).toEqual([])
    expect(detector.stats()).toMatchObject({ trained: 0, reservoir: 1 })
  })
})
