import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  DEFAULT_ORDERS,
  composeRdp,
  computeEpsilon,
  epsilonForHistory,
  noiseMultiplierForBudget,
} from './rdp-accountant.ts'
import { rdpSampledGaussian } from './rdp-sampled-gaussian.ts'

interface ReferenceCase {
  sampleRate: number
  noiseMultiplier: number
  steps: number
  delta: number
  epsilon: number
  order: number
  epsilonClassic: number
  orderClassic: number
}
interface Reference {
  about: string
  orders: number[]
  cases: ReferenceCase[]
}

// Epsilons computed with Opacus' RDP accountant (see the file's `about`); printed to 6 decimals.
const REFERENCE_PATH = path.resolve(import.meta.dirname, '../../../shared/data/dp-reference/opacus-rdp.json')
const reference = JSON.parse(readFileSync(REFERENCE_PATH, 'utf8')) as Reference

/** The contract: match Opacus within 1%. */
const CONTRACT_REL_ERROR = 0.01
/** What the implementation actually achieves: the reference's own 6-decimal rounding. */
const ACHIEVED_REL_ERROR = 1e-6

const MNIST_Q = 256 / 60000
const DELTA = 1e-5

function relError(actual: number, expected: number): number {
  return Math.abs(actual - expected) / Math.abs(expected)
}

describe('DEFAULT_ORDERS', () => {
  it("are exactly Opacus' default orders, the ones the reference was computed over", () => {
    expect(DEFAULT_ORDERS).toEqual(reference.orders)
    expect(DEFAULT_ORDERS).toHaveLength(151)
    expect(DEFAULT_ORDERS).not.toContain(11)
    expect(Object.isFrozen(DEFAULT_ORDERS)).toBe(true)
  })
})

describe('computeEpsilon against Opacus', () => {
  it.each(reference.cases)(
    'q=$sampleRate sigma=$noiseMultiplier steps=$steps: balle2020 (Opacus get_privacy_spent)',
    (c) => {
      const spent = computeEpsilon({ ...c, orders: reference.orders })
      expect(relError(spent.epsilon, c.epsilon)).toBeLessThan(CONTRACT_REL_ERROR)
      expect(relError(spent.epsilon, c.epsilon)).toBeLessThan(ACHIEVED_REL_ERROR)
      expect(spent.order).toBe(c.order)
      expect(spent.delta).toBe(c.delta)
      // the defaults are Opacus' orders and conversion
      expect(computeEpsilon(c)).toEqual(spent)
    },
  )

  it.each(reference.cases)('q=$sampleRate sigma=$noiseMultiplier steps=$steps: classic conversion', (c) => {
    const spent = computeEpsilon({ ...c, orders: reference.orders, method: 'classic' })
    expect(relError(spent.epsilon, c.epsilonClassic)).toBeLessThan(CONTRACT_REL_ERROR)
    expect(relError(spent.epsilon, c.epsilonClassic)).toBeLessThan(ACHIEVED_REL_ERROR)
    expect(spent.order).toBe(c.orderClassic)
  })

  it('reproduces the TF-Privacy MNIST tutorial numbers (classic conversion)', () => {
    // 60 epochs at sigma 1.1 and 45 epochs at sigma 0.7, batch 256 of 60000
    expect(
      computeEpsilon({
        sampleRate: MNIST_Q,
        noiseMultiplier: 0.7,
        steps: 10546,
        delta: DELTA,
        method: 'classic',
      }).epsilon,
    ).toBeCloseTo(7.1, 2)
  })
})

describe('composition', () => {
  const orders = DEFAULT_ORDERS

  it('multiplies the per-step RDP by the number of steps', () => {
    const perStep = rdpSampledGaussian(MNIST_Q, 1.1, orders)
    const composed = composeRdp([{ sampleRate: MNIST_Q, noiseMultiplier: 1.1, steps: 1000 }], orders)
    composed.forEach((r, i) => expect(r).toBe(perStep[i] * 1000))
  })

  it('adds heterogeneous rounds order by order, and splitting a round changes nothing', () => {
    const a = { sampleRate: 0.01, noiseMultiplier: 1.0, steps: 300 }
    const b = { sampleRate: 0.05, noiseMultiplier: 2.0, steps: 200 }
    const both = composeRdp([a, b], orders)
    const ra = composeRdp([a], orders)
    const rb = composeRdp([b], orders)
    both.forEach((r, i) => expect(r).toBeCloseTo(ra[i] + rb[i], 12))

    const whole = epsilonForHistory([{ ...a, steps: 500 }], DELTA)
    const split = epsilonForHistory(
      [
        { ...a, steps: 120 },
        { ...a, steps: 380 },
      ],
      DELTA,
    )
    expect(relError(split.epsilon, whole.epsilon)).toBeLessThan(1e-12)
    expect(split.order).toBe(whole.order)

    const mixed = epsilonForHistory([a, b], DELTA)
    expect(mixed.epsilon).toBeGreaterThan(epsilonForHistory([a], DELTA).epsilon)
    expect(mixed.epsilon).toBeGreaterThan(epsilonForHistory([b], DELTA).epsilon)
  })

  it('epsilon grows with steps and falls as the noise grows', () => {
    let previous = 0
    for (const steps of [1, 10, 100, 1000, 10000, 100000]) {
      const { epsilon } = computeEpsilon({ sampleRate: MNIST_Q, noiseMultiplier: 1.1, steps, delta: DELTA })
      expect(epsilon).toBeGreaterThan(previous)
      previous = epsilon
    }
    previous = Infinity
    for (const noiseMultiplier of [0.5, 0.7, 0.9, 1.1, 1.5, 3, 10]) {
      const { epsilon } = computeEpsilon({ sampleRate: MNIST_Q, noiseMultiplier, steps: 5000, delta: DELTA })
      expect(epsilon).toBeLessThan(previous)
      previous = epsilon
    }
  })

  it('a history without steps has spent nothing', () => {
    expect(epsilonForHistory([], DELTA)).toEqual({ epsilon: 0, delta: DELTA, order: NaN })
    expect(computeEpsilon({ sampleRate: 0.01, noiseMultiplier: 0, steps: 0, delta: DELTA }).epsilon).toBe(0)
    expect(composeRdp([{ sampleRate: 0.01, noiseMultiplier: 0, steps: 0 }], [2, 3])).toEqual([0, 0])
  })

  it('no noise means no privacy; no sampling means zero RDP', () => {
    expect(computeEpsilon({ sampleRate: 0.01, noiseMultiplier: 0, steps: 1, delta: DELTA }).epsilon).toBe(
      Infinity,
    )
    expect(composeRdp([{ sampleRate: 0, noiseMultiplier: 1, steps: 100 }], [2, 3])).toEqual([0, 0])
  })

  it('rejects invalid parameters with InvalidPrivacyParameterError', () => {
    const named = expect.objectContaining({ name: 'InvalidPrivacyParameterError' })
    const ok = { sampleRate: 0.01, noiseMultiplier: 1, steps: 10, delta: DELTA }
    expect(() => computeEpsilon({ ...ok, delta: 0 })).toThrow(named)
    expect(() => computeEpsilon({ ...ok, delta: 1 })).toThrow(named)
    expect(() => computeEpsilon({ ...ok, steps: -1 })).toThrow(named)
    expect(() => computeEpsilon({ ...ok, steps: 1.5 })).toThrow(named)
    expect(() => computeEpsilon({ ...ok, sampleRate: 2 })).toThrow(named)
    expect(() => computeEpsilon({ ...ok, noiseMultiplier: -1 })).toThrow(named)
    expect(() => computeEpsilon({ ...ok, orders: [1, 2] })).toThrow(named)
    expect(() => computeEpsilon({ ...ok, method: 'other' as 'classic' })).toThrow(named)
    expect(() => epsilonForHistory([ok, null as unknown as typeof ok], DELTA)).toThrow(named)
    expect(() => epsilonForHistory([], 0)).toThrow(named)
  })
})

describe('noiseMultiplierForBudget', () => {
  it.each([
    [MNIST_Q, 1.1, 14062],
    [MNIST_Q, 0.7, 10546],
    [0.01, 1.0, 1000],
    [0.05, 2.0, 500],
    [1, 5, 10],
  ])('round-trips q=%d sigma=%d steps=%d to within 0.01', (sampleRate, noiseMultiplier, steps) => {
    const targetEpsilon = computeEpsilon({ sampleRate, noiseMultiplier, steps, delta: DELTA }).epsilon
    const sigma = noiseMultiplierForBudget({ targetEpsilon, delta: DELTA, sampleRate, steps })
    expect(sigma).toBeGreaterThanOrEqual(noiseMultiplier - 1e-9)
    expect(sigma).toBeLessThanOrEqual(noiseMultiplier + 0.01)
    // the answer meets the budget and 0.01 less noise does not
    expect(
      computeEpsilon({ sampleRate, noiseMultiplier: sigma, steps, delta: DELTA }).epsilon,
    ).toBeLessThanOrEqual(targetEpsilon)
    const less = computeEpsilon({ sampleRate, noiseMultiplier: sigma - 0.01, steps, delta: DELTA }).epsilon
    expect(less).toBeGreaterThan(targetEpsilon)
  })

  it('finds the TF-Privacy MNIST budget (epsilon ~3 after 60 epochs)', () => {
    const sigma = noiseMultiplierForBudget({
      targetEpsilon: 3,
      delta: DELTA,
      sampleRate: MNIST_Q,
      steps: 14062,
    })
    expect(sigma).toBeGreaterThan(0.9)
    expect(sigma).toBeLessThan(1.1)
  })

  it('honours the conversion and tolerance options', () => {
    const input = { targetEpsilon: 2, delta: DELTA, sampleRate: 0.01, steps: 1000 }
    const tight = noiseMultiplierForBudget({ ...input, tolerance: 1e-4 })
    const classic = noiseMultiplierForBudget({ ...input, method: 'classic', tolerance: 1e-4 })
    expect(classic).toBeGreaterThan(tight) // the looser conversion needs more noise for the same budget
    expect(Math.abs(noiseMultiplierForBudget(input) - tight)).toBeLessThanOrEqual(0.01)
  })

  it('reports an unreachable budget with a named error', () => {
    // epsilon cannot go below the conversion's own slack (~0.1 at delta 1e-5 over the default orders)
    expect(() =>
      noiseMultiplierForBudget({ targetEpsilon: 0.05, delta: DELTA, sampleRate: 0.01, steps: 10 }),
    ).toThrow(expect.objectContaining({ name: 'PrivacyBudgetUnreachableError' }))
  })

  it('rejects invalid parameters with InvalidPrivacyParameterError', () => {
    const named = expect.objectContaining({ name: 'InvalidPrivacyParameterError' })
    const ok = { targetEpsilon: 2, delta: DELTA, sampleRate: 0.01, steps: 1000 }
    expect(() => noiseMultiplierForBudget({ ...ok, targetEpsilon: 0 })).toThrow(named)
    expect(() => noiseMultiplierForBudget({ ...ok, targetEpsilon: Infinity })).toThrow(named)
    expect(() => noiseMultiplierForBudget({ ...ok, delta: 0 })).toThrow(named)
    expect(() => noiseMultiplierForBudget({ ...ok, sampleRate: 0 })).toThrow(named)
    expect(() => noiseMultiplierForBudget({ ...ok, steps: 0 })).toThrow(named)
    expect(() => noiseMultiplierForBudget({ ...ok, tolerance: 0 })).toThrow(named)
  })
})
