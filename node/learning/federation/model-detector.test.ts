import { describe, expect, it } from 'vitest'
import { browsingSession, scannerBurst } from '../../detect/features/synthetic-traffic.ts'
import { mulberry32 } from '../../detect/features/prng.ts'
import { createMlp, withFlatWeights, getFlatWeights } from '../model/mlp.ts'
import { LIVE_FEATURE_NAMES, LIVE_FEATURE_SCHEMA } from '../model/feature-schema-ref.ts'
import { Ensemble, DECISION_THRESHOLD, DETECTOR_WEIGHTS, combineFindings } from '../../detect/ensemble.ts'
import type { Finding } from '../../detect/detector.ts'
import { MODEL_SCENARIO, ModelDetector, PROVISIONAL_SCORE_CAP, provisionalCap } from './model-detector.ts'

/** a model whose output bias alone says "attack": every window scores ~1 (like issue 15's poisoned model) */
function sayAttack() {
  const base = createMlp({ schema: LIVE_FEATURE_SCHEMA, featureNames: LIVE_FEATURE_NAMES, seed: 3 })
  const flat = getFlatWeights(base)
  flat[flat.length - 1] = 20
  return withFlatWeights(base, flat)
}

describe('ModelDetector', () => {
  it('hands every closed window on, and without a model finds nothing', () => {
    const detector = new ModelDetector({ minEvents: 1 })
    const seen: string[] = []
    detector.onWindow((w) => seen.push(w.ip))
    for (const e of browsingSession(mulberry32(1), '10.0.0.1', 0, 120_000)) detector.observe(e)
    expect(detector.tick(10 * 60_000)).toEqual([])
    expect(seen.length).toBeGreaterThan(0)
    expect(detector.recentWindow('10.0.0.1')?.features).toHaveLength(LIVE_FEATURE_NAMES.length)
  })

  it('flags windows the model scores above the threshold, with the features that raised the score', () => {
    // a model whose output bias alone says "attack": every window scores ~1
    const base = createMlp({ schema: LIVE_FEATURE_SCHEMA, featureNames: LIVE_FEATURE_NAMES, seed: 3 })
    const flat = getFlatWeights(base)
    flat[flat.length - 1] = 20
    const model = withFlatWeights(base, flat)
    const detector = new ModelDetector({ minEvents: 5, threshold: 0.9 })
    detector.setModel(model, 'ab'.repeat(32), { validated: true })
    for (const e of scannerBurst('203.0.113.9', 0, 30_000, 200)) detector.observe(e)
    const [finding] = detector.tick(5 * 60_000)
    expect(finding).toMatchObject({ detector: 'model', scenario: MODEL_SCENARIO, ip: '203.0.113.9' })
    expect(finding.score).toBeGreaterThan(0.9)
    expect(finding.reasons[0]).toMatch(/federated model abababababab/)
    expect(detector.stats()).toMatchObject({ scoredWindows: 1, flaggedWindows: 1, hasModel: 1 })
  })

  it('caps the findings of a model not validated on local data: alone they cannot ban, with another detector they can', () => {
    const detector = new ModelDetector({ minEvents: 5, threshold: 0.9 })
    detector.setModel(sayAttack(), 'cd'.repeat(32))
    expect(detector.provisional).toBe(true)
    for (let i = 0; i < 20; i++) {
      for (const e of browsingSession(mulberry32(i), `198.51.100.${i}`, 0, 30_000)) detector.observe(e)
    }
    const findings = detector.tick(5 * 60_000)
    expect(findings.length).toBeGreaterThan(0)
    const ensemble = new Ensemble()
    for (const f of findings) {
      expect(f.score).toBeLessThanOrEqual(PROVISIONAL_SCORE_CAP)
      expect(f.reasons.join(' ')).toMatch(/not yet validated on this node's data/)
      // the model's word alone, however often repeated, decides nothing
      expect(ensemble.consider(f, f.last)).toBeUndefined()
      expect(ensemble.consider({ ...f, first: f.first + 1 }, f.last + 1)).toBeUndefined()
    }
    // corroborated by another detector, the same finding decides
    const f = findings[0]
    const rate: Finding = {
      ...f,
      detector: 'rate-zscore',
      scenario: 'http-rate',
      score: 0.9,
      reasons: ['rate'],
    }
    const decision = ensemble.consider(rate, f.last)
    expect(decision?.detectors.sort()).toEqual(['model', 'rate-zscore'])

    // validated on local data, the model's findings carry their score
    detector.setModel(sayAttack(), 'cd'.repeat(32), { validated: true })
    expect(detector.provisional).toBe(false)
    for (const e of browsingSession(mulberry32(99), '198.51.100.99', 10 * 60_000, 30_000)) detector.observe(e)
    const [validated] = detector.tick(20 * 60_000)
    expect(validated.score).toBeGreaterThan(0.9)
    // what issue 15's poisoned model weighed alone: at the decision threshold
    expect(combineFindings([validated], DETECTOR_WEIGHTS)).toBeGreaterThan(DECISION_THRESHOLD - 0.001)
  })

  it('keeps the cap below half the decision threshold whatever the operator sets', () => {
    const w = DETECTOR_WEIGHTS.model
    expect(provisionalCap(PROVISIONAL_SCORE_CAP, DECISION_THRESHOLD, w) * w).toBeLessThanOrEqual(
      DECISION_THRESHOLD / 2 + 1e-9,
    )
    // a lower ban threshold lowers the cap with it
    expect(provisionalCap(0.5, 0.3, w) * w).toBeCloseTo(0.15, 9)
    expect(provisionalCap(0.2, 0.7, w)).toBe(0.2)
    expect(provisionalCap(0.5, 0.7, 0)).toBe(0.5)
  })
})
