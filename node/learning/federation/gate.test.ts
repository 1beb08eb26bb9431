import { describe, expect, it } from 'vitest'
import { browsingSession } from '../../detect/features/synthetic-traffic.ts'
import { mulberry32 } from '../../detect/features/prng.ts'
import { createMlp, getFlatWeights, parameterCount, withFlatWeights } from '../model/mlp.ts'
import { ModelDetector } from './model-detector.ts'
import { LIVE_FEATURE_NAMES, LIVE_FEATURE_SCHEMA } from '../model/feature-schema-ref.ts'
import {
  DEFAULT_GATE_INIT,
  canJudge,
  evaluate,
  gateDecision,
  metricsRecord,
  predictionShift,
  type Evaluation,
} from './gate.ts'

/** the closed windows of `n` ordinary visitors, as the model detector keeps them */
function visitorWindows(n: number): Float32Array[] {
  const detector = new ModelDetector({ minEvents: 1 })
  for (let i = 0; i < n; i++) {
    for (const e of browsingSession(mulberry32(i + 1), `198.51.100.${i}`, 0, 30_000)) detector.observe(e)
  }
  detector.tick(10 * 60_000)
  return detector.recentFeatures(1000)
}

const at = (f1: number, loss: number) => ({ f1, loss, n: 100 }) as Evaluation

describe('gate', () => {
  it('accepts a model that is not worse by more than the margins, and says why', () => {
    const g = gateDecision(at(0.8, 0.4), at(0.79, 0.42), DEFAULT_GATE_INIT)
    expect(g.decision).toBe('accept')
    expect(g.reason).toMatch(/F1 0.800 -> 0.790/)
  })

  it('rejects an F1 drop or a loss rise beyond the margin', () => {
    expect(gateDecision(at(0.8, 0.4), at(0.7, 0.3), DEFAULT_GATE_INIT)).toMatchObject({
      decision: 'reject',
      reason: expect.stringMatching(/^F1 dropped/),
    })
    expect(gateDecision(at(0.8, 0.4), at(0.9, 0.6), DEFAULT_GATE_INIT)).toMatchObject({
      decision: 'reject',
      reason: expect.stringMatching(/^loss rose/),
    })
  })

  it('with too little validation data and too few recent windows, adopts only provisionally', () => {
    const g = gateDecision(undefined, undefined, DEFAULT_GATE_INIT)
    expect(g.decision).toBe('accept')
    expect(g.reason).toMatch(/provisionally/)
    const few = { n: 3, flipped: 3, newlyFlagged: 3, meanShift: 0.8 }
    expect(gateDecision(undefined, undefined, DEFAULT_GATE_INIT, few).decision).toBe('accept')
    const y = new Float32Array(30)
    expect(canJudge({ x: new Float32Array(30 * 19), y }, DEFAULT_GATE_INIT)).toBe(false)
    y[0] = 1
    expect(canJudge({ x: new Float32Array(30 * 19), y }, DEFAULT_GATE_INIT)).toBe(true)
  })

  it('evaluates a model to finite metrics only', () => {
    const model = createMlp({ schema: LIVE_FEATURE_SCHEMA, featureNames: LIVE_FEATURE_NAMES, seed: 1 })
    const x = Float32Array.from({ length: 4 * 19 }, (_, i) => (i % 7) / 7)
    const e = evaluate(model, { x, y: Float32Array.from([1, 1, 1, 1]) })
    expect(e.n).toBe(4)
    expect(e.loss).toBeGreaterThan(0)
    // ROC-AUC is undefined with one class: left out rather than stored as NaN
    expect(metricsRecord(e)).not.toHaveProperty('rocAuc')
    expect(Object.values(metricsRecord(e)).every(Number.isFinite)).toBe(true)
  })

  it('with no validation data, refuses a model that changes predictions on recent traffic sharply (issue 15)', () => {
    const current = createMlp({ schema: LIVE_FEATURE_SCHEMA, featureNames: LIVE_FEATURE_NAMES, seed: 0x5eed })
    // the poisoned answer of issue 15: the initial layout, every weight 0.5
    const poisoned = withFlatWeights(
      current,
      new Float32Array(parameterCount(current.architecture)).fill(0.5),
    )
    const windows = visitorWindows(20)
    expect(windows.length).toBe(20)
    const shift = predictionShift(current, poisoned, windows, 0.9)
    expect(shift).toMatchObject({ n: 20, flipped: 20, newlyFlagged: 20 })
    expect(shift.meanShift).toBeGreaterThan(0.5)
    const g = gateDecision(undefined, undefined, DEFAULT_GATE_INIT, shift)
    expect(g.decision).toBe('reject')
    expect(g.reason).toMatch(/change this node's predictions sharply: 20 of 20 recent windows/)

    // a small step from the current model barely moves them: adopted, provisionally
    const flat = getFlatWeights(current).map((w, i) => w + (i % 2 === 0 ? 0.002 : -0.002))
    const nudged = predictionShift(current, withFlatWeights(current, flat), windows, 0.9)
    expect(nudged.flipped).toBe(0)
    expect(nudged.meanShift).toBeLessThan(0.05)
    const ok = gateDecision(undefined, undefined, DEFAULT_GATE_INIT, nudged)
    expect(ok.decision).toBe('accept')
    expect(ok.reason).toMatch(/barely move.*provisionally/)

    // a model that unflags everything is as sharp a change
    const alarmed = predictionShift(poisoned, current, windows, 0.9)
    expect(gateDecision(undefined, undefined, DEFAULT_GATE_INIT, alarmed).decision).toBe('reject')
  })
})
