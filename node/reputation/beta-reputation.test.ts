import { describe, expect, it } from 'vitest'
import {
  decay,
  expected,
  InvalidBetaStateError,
  parseBetaState,
  priorState,
  PRIOR_ALPHA,
  PRIOR_BETA,
  record,
  trust,
  trustUpperBound,
  type BetaState,
} from './beta-reputation.ts'
import { EVIDENCE, type EvidenceKind } from './evidence.ts'

const DAY = 24 * 3600 * 1000
const HALF_LIFE = 30 * DAY

function apply(state: BetaState, kind: EvidenceKind, times = 1, now = state.updatedAt): BetaState {
  let s = state
  for (let i = 0; i < times; i++) s = record(s, EVIDENCE[kind].outcome, EVIDENCE[kind].weight, now, HALF_LIFE)
  return s
}

describe('beta reputation', () => {
  const fresh = priorState(0)

  it('starts a new peer low', () => {
    expect(expected(fresh)).toBeCloseTo(0.2)
    expect(trust(fresh)).toBeLessThan(0.3)
  })

  it('needs many corroborations to trust, and one is not enough', () => {
    const once = apply(fresh, 'corroborated-by-own-detector')
    const twenty = apply(fresh, 'corroborated-by-own-detector', 20)
    const thirty = apply(fresh, 'corroborated-by-own-detector', 30)
    expect(trust(twenty)).toBeGreaterThan(0.7)
    expect(trust(once)).toBeLessThan(0.3)
    // both far below an established peer
    expect(trust(thirty) - trust(once)).toBeGreaterThan(0.5)
    expect(trust(thirty) - trust(fresh)).toBeGreaterThan(0.5)
  })

  it('drops a good peer noticeably for one false verdict', () => {
    const good = apply(fresh, 'corroborated-by-own-detector', 20)
    const after = apply(good, 'marked-false-by-admin')
    expect(trust(good) - trust(after)).toBeGreaterThan(0.1)
    // and costs more than several corroborations earn
    expect(trust(apply(after, 'corroborated-by-own-detector', 4))).toBeLessThan(trust(good))
  })

  it('costs a good peer little for reporting an address only we allowlist: it could not know', () => {
    const good = apply(fresh, 'corroborated-by-own-detector', 20)
    const allowlisted = trust(good) - trust(apply(good, 'reported-allowlisted-address'))
    expect(allowlisted).toBeGreaterThan(0)
    expect(allowlisted).toBeLessThan(0.01)
    // far below a forgery and a false verdict
    expect(allowlisted * 3).toBeLessThan(trust(good) - trust(apply(good, 'invalid-message')))
    expect(allowlisted * 20).toBeLessThan(trust(good) - trust(apply(good, 'marked-false-by-admin')))
  })

  it('weighs admin verdicts and invalid messages in the right direction', () => {
    const base = apply(fresh, 'corroborated-by-own-detector', 10)
    expect(trust(apply(base, 'confirmed-by-admin'))).toBeGreaterThan(trust(base))
    expect(trust(apply(base, 'marked-false-by-admin'))).toBeLessThan(
      trust(apply(base, 'reported-allowlisted-address')),
    )
    expect(trust(apply(base, 'invalid-message'))).toBeLessThan(trust(base))
    const weak = trust(base) - trust(apply(base, 'never-corroborated'))
    expect(weak).toBeGreaterThan(0)
    expect(weak).toBeLessThan(trust(base) - trust(apply(base, 'invalid-message')))
  })

  it('decays evidence back toward the prior', () => {
    const good = apply(fresh, 'corroborated-by-own-detector', 30)
    const half = decay(good, HALF_LIFE, HALF_LIFE)
    expect(half.alpha - PRIOR_ALPHA).toBeCloseTo((good.alpha - PRIOR_ALPHA) / 2)
    expect(trust(half)).toBeLessThan(trust(good))
    const long = decay(good, 50 * HALF_LIFE, HALF_LIFE)
    expect(long.alpha).toBeCloseTo(PRIOR_ALPHA)
    expect(trust(long)).toBeCloseTo(trust(fresh))

    const liar = apply(fresh, 'marked-false-by-admin', 3)
    const forgiven = decay(liar, 3 * HALF_LIFE, HALF_LIFE)
    expect(trust(forgiven)).toBeGreaterThan(trust(liar))
    expect(forgiven.beta).toBeGreaterThan(PRIOR_BETA)
  })

  it('does not forget when the clock goes backwards', () => {
    const good = apply(priorState(1000), 'corroborated-by-own-detector', 5)
    expect(decay(good, 0, HALF_LIFE)).toEqual(good)
  })

  it('ignores non-positive and non-finite weights', () => {
    expect(record(fresh, 'positive', -3, 0)).toEqual(fresh)
    expect(record(fresh, 'negative', Number.NaN, 0)).toEqual(fresh)
    expect(record(fresh, 'positive', Number.POSITIVE_INFINITY, 0)).toEqual(fresh)
  })

  it('keeps trust in [0, 1] and monotonic in the evidence', () => {
    let seed = 42
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
    for (let i = 0; i < 500; i++) {
      const s: BetaState = {
        alpha: PRIOR_ALPHA + rand() * 1000,
        beta: PRIOR_BETA + rand() * 1000,
        updatedAt: 0,
      }
      const w = rand() * 10 + 0.01
      for (const x of [s, record(s, 'positive', w, 0), record(s, 'negative', w, 0)]) {
        expect(trust(x)).toBeGreaterThanOrEqual(0)
        expect(trust(x)).toBeLessThanOrEqual(1)
        expect(trustUpperBound(x)).toBeGreaterThanOrEqual(trust(x))
      }
      expect(trust(record(s, 'positive', w, 0))).toBeGreaterThanOrEqual(trust(s))
      expect(trust(record(s, 'negative', w, 0))).toBeLessThanOrEqual(trust(s))
    }
    expect(trust({ alpha: 1e9, beta: PRIOR_BETA, updatedAt: 0 })).toBeLessThanOrEqual(1)
  })

  it('parses stored state and rejects anything else', () => {
    const good = apply(fresh, 'corroborated-by-own-detector', 3)
    expect(parseBetaState(JSON.parse(JSON.stringify(good)))).toEqual(good)
    for (const bad of [
      null,
      {},
      { alpha: 0.5, beta: 4, updatedAt: 0 },
      { alpha: 1, beta: 'x', updatedAt: 0 },
    ]) {
      expect(() => parseBetaState(bad)).toThrow(expect.objectContaining({ name: InvalidBetaStateError.name }))
    }
  })
})
