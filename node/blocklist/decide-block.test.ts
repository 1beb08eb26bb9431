import { describe, expect, it } from 'vitest'
import {
  decay,
  decideBlock,
  DEFAULT_BLOCK_POLICY as P,
  noisyOr,
  type LocalDetection,
  type PeerReport,
} from './decide-block.ts'

const NOW = 1_700_000_000_000
const MIN = 60_000
const HOUR = 3600_000

function report(reporter: string, trust: number, over: Partial<PeerReport> = {}): PeerReport {
  return {
    reporter,
    trust,
    confidence: 0.9,
    scenario: 'ssh-bf',
    severity: 'high',
    at: NOW - 5 * MIN,
    ...over,
  }
}

function local(confidence: number, over: Partial<LocalDetection> = {}): LocalDetection {
  return { confidence, scenario: 'ssh-bf', at: NOW - MIN, ...over }
}

function sybils(n: number, trust: number): PeerReport[] {
  return Array.from({ length: n }, (_, i) =>
    report(`fresh-${i}`, trust, { confidence: 1, severity: 'critical' }),
  )
}

describe('decideBlock', () => {
  it('never blocks on fifty fresh identities of trust 0.1, however confident', () => {
    const v = decideBlock({ local: [], reports: sybils(50, 0.1) }, P, NOW)
    expect(v.block).toBe(false)
    expect(v.agreeing).toBe(0)
    // fifty weigh what one does
    const one = decideBlock({ local: [], reports: sybils(1, 0.1) }, P, NOW)
    expect(v.score).toBe(one.score)
    expect(v.score).toBeLessThanOrEqual(0.1)
    expect(v.reporters).toHaveLength(1)
    expect(v.reasons.join('\n')).toMatch(/50 peers below trust 0.60 count as one/)
  })

  it('bounds any number of just-untrusted reporters by the untrusted cap', () => {
    const v = decideBlock({ local: [], reports: sybils(1000, 0.59) }, P, NOW)
    expect(v.block).toBe(false)
    expect(v.score).toBeLessThanOrEqual(P.untrustedCap)
  })

  it('blocks when two trusted reporters agree, and says who and why', () => {
    const v = decideBlock(
      { local: [], reports: [report('peer-a-0000000000000000', 0.8), report('peer-b', 0.7)] },
      P,
      NOW,
    )
    expect(v.block).toBe(true)
    expect(v.origin).toBe('community')
    expect(v.agreeing).toBe(2)
    expect(v.reporters).toEqual(['peer-a-0000000000000000', 'peer-b'])
    expect(v.scenario).toBe('ssh-bf')
    expect(v.score).toBeGreaterThanOrEqual(P.communityThreshold)
    expect(v.reasons[0]).toMatch(
      /^peer peer-a-0…000000 \(trust 0\.80\) reported ssh-bf \(high, confidence 0\.90\) 5 min ago/,
    )
    expect(v.reasons.at(-1)).toMatch(
      /^blocked: 2 trusted voices agree \(need 2\) and the combined score 0\.\d\d ≥ 0\.70/,
    )
  })

  it('does not block on one trusted reporter alone, even a fully trusted and certain one', () => {
    const v = decideBlock({ local: [], reports: [report('a', 1, { confidence: 1 })] }, P, NOW)
    expect(v.block).toBe(false)
    expect(v.score).toBeGreaterThan(0.98)
    expect(v.reasons.at(-1)).toMatch(/not blocked: 1 trusted voice agrees, 2 needed/)
  })

  it('is not swayed by Sybils next to a single trusted reporter', () => {
    const v = decideBlock({ local: [], reports: [report('a', 0.9), ...sybils(50, 0.2)] }, P, NOW)
    expect(v.block).toBe(false)
    expect(v.agreeing).toBe(1)
  })

  it('counts our own detectors as one trusted voice', () => {
    const v = decideBlock({ local: [local(0.5)], reports: [report('a', 0.9)] }, P, NOW)
    expect(v.block).toBe(true)
    expect(v.origin).toBe('community')
    expect(v.agreeing).toBe(2)
    expect(v.reasons.at(-1)).toMatch(/ours included/)
  })

  it('blocks on strong local evidence alone, and not on weak', () => {
    const strong = decideBlock({ local: [local(0.85)], reports: [] }, P, NOW)
    expect(strong).toMatchObject({ block: true, origin: 'local', reporters: [] })
    expect(strong.reasons[0]).toMatch(/^local detection ssh-bf, confidence 0\.85, 60 s ago/)
    const weak = decideBlock({ local: [local(0.5)], reports: [] }, P, NOW)
    expect(weak.block).toBe(false)
    // two independent local detections combine
    const two = decideBlock(
      { local: [local(0.6), local(0.6, { scenario: 'http-probing' })], reports: [] },
      P,
      NOW,
    )
    expect(two.block).toBe(true)
  })

  it('lets evidence decay with age and ignores it past the maximum age', () => {
    expect(decay(P.halfLifeMs, P.halfLifeMs)).toBeCloseTo(0.5)
    expect(decay(-HOUR, P.halfLifeMs)).toBe(1)
    const fresh = [report('a', 0.8), report('b', 0.8)]
    expect(decideBlock({ local: [], reports: fresh }, P, NOW).block).toBe(true)
    const later = NOW + 2 * P.halfLifeMs
    expect(decideBlock({ local: [], reports: fresh }, P, later).block).toBe(false)
    const ancient = decideBlock({ local: [local(1, { at: NOW - P.maxAgeMs - 1 })], reports: [] }, P, NOW)
    expect(ancient).toMatchObject({
      block: false,
      score: 0,
      reasons: [expect.stringMatching(/^not blocked/)],
    })
  })

  it('counts a reporter once however often it repeats itself', () => {
    const reports = Array.from({ length: 10 }, (_, i) => report('a', 0.9, { at: NOW - i * MIN }))
    const v = decideBlock({ local: [], reports }, P, NOW)
    expect(v.agreeing).toBe(1)
    expect(v.block).toBe(false)
    expect(v.score).toBe(decideBlock({ local: [], reports: [reports[0]] }, P, NOW).score)
  })

  it('weighs severity and lets faint reports not count as agreement', () => {
    const low = decideBlock(
      {
        local: [],
        reports: [
          report('a', 0.7, { severity: 'low', confidence: 0.5 }),
          report('b', 0.7, { severity: 'low', confidence: 0.5 }),
        ],
      },
      P,
      NOW,
    )
    expect(low.agreeing).toBe(0) // 0.7 × 0.5 × 0.5 = 0.175 < 0.2
    expect(low.block).toBe(false)
  })

  it('names the scenario that weighed most', () => {
    const v = decideBlock(
      {
        local: [local(0.3, { scenario: 'http-probing' })],
        reports: [
          report('a', 0.8),
          report('b', 0.8, { scenario: 'ssh-bf' }),
          report('c', 0.7, { scenario: 'http-probing' }),
        ],
      },
      P,
      NOW,
    )
    expect(v.scenario).toBe('ssh-bf')
  })

  it('clamps garbage rather than trusting or crashing on it, and does not touch its input', () => {
    const evidence = Object.freeze({
      local: Object.freeze([local(Number.NaN)]),
      reports: Object.freeze([report('a', 7, { confidence: -1 }), report('b', Number.POSITIVE_INFINITY)]),
    })
    const v = decideBlock(evidence, P, NOW)
    expect(v.block).toBe(false)
    expect(Number.isFinite(v.score)).toBe(true)
    expect(decideBlock(evidence, P, NOW)).toEqual(v)
  })

  it('keeps the Sybil bound on random evidence: untrusted reporters never add more than their heaviest', () => {
    let seed = 42
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296
    for (let round = 0; round < 200; round++) {
      const trusted = Array.from({ length: Math.floor(next() * 3) }, (_, i) =>
        report(`t${i}`, 0.6 + next() * 0.4, { confidence: next(), at: NOW - next() * 12 * HOUR }),
      )
      const untrusted = Array.from({ length: 1 + Math.floor(next() * 60) }, (_, i) =>
        report(`u${i}`, next() * 0.59, { confidence: next(), at: NOW - next() * 12 * HOUR }),
      )
      const all = decideBlock({ local: [], reports: [...trusted, ...untrusted] }, P, NOW)
      const heaviest = untrusted
        .map((r) => decideBlock({ local: [], reports: [...trusted, r] }, P, NOW))
        .reduce((a, b) => (b.score > a.score ? b : a))
      expect(all.score).toBeCloseTo(heaviest.score, 3)
      expect(all.block).toBe(heaviest.block)
      if (trusted.length < 2) expect(all.block).toBe(false)
    }
  })

  it('combines with a noisy-OR that stays within 0..1', () => {
    expect(noisyOr([])).toBe(0)
    expect(noisyOr([0.5, 0.5])).toBeCloseTo(0.75)
    expect(noisyOr([2, Number.NaN])).toBe(1)
  })
})
