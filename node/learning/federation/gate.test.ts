import { describe, expect, it } from 'vitest'
import { createMlp } from '../model/mlp.ts'
import { LIVE_FEATURE_NAMES, LIVE_FEATURE_SCHEMA } from '../model/feature-schema-ref.ts'
import {
  DEFAULT_GATE_INIT,
  canJudge,
  evaluate,
  gateDecision,
  metricsRecord,
  type Evaluation,
} from './gate.ts'

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

  it('follows the federation when it cannot judge', () => {
    expect(gateDecision(undefined, undefined, DEFAULT_GATE_INIT).decision).toBe('accept')
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
})
