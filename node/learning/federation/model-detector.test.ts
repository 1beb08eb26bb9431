import { describe, expect, it } from 'vitest'
import { browsingSession, scannerBurst } from '../../detect/features/synthetic-traffic.ts'
import { mulberry32 } from '../../detect/features/prng.ts'
import { createMlp, withFlatWeights, getFlatWeights } from '../model/mlp.ts'
import { LIVE_FEATURE_NAMES, LIVE_FEATURE_SCHEMA } from '../model/feature-schema-ref.ts'
import { MODEL_SCENARIO, ModelDetector } from './model-detector.ts'

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
    detector.setModel(model, 'ab'.repeat(32))
    for (const e of scannerBurst('203.0.113.9', 0, 30_000, 200)) detector.observe(e)
    const [finding] = detector.tick(5 * 60_000)
    expect(finding).toMatchObject({ detector: 'model', scenario: MODEL_SCENARIO, ip: '203.0.113.9' })
    expect(finding.score).toBeGreaterThan(0.9)
    expect(finding.reasons[0]).toMatch(/federated model abababababab/)
    expect(detector.stats()).toMatchObject({ scoredWindows: 1, flaggedWindows: 1, hasModel: 1 })
  })
})
