import { describe, expect, it } from 'vitest'
import { priorState, trust as betaTrust } from '../../reputation/beta-reputation.ts'
import { DEFAULT_AGREEMENT_POLICY, weighVotes, type Vote } from './sync-agreement.ts'

/** what the reputation book gives a peer it has never heard of (~0.04) */
const PRIOR_TRUST = betaTrust(priorState(0))
const POISON = 'e'.repeat(64)
const HONEST = 'a'.repeat(64)

function vote(peerId: string, trust: number, modelHash: string, round = 5): Vote<null> {
  return { peerId, trust, modelHash, round, value: null }
}

function fresh(n: number, modelHash: string, round = 5): Vote<null>[] {
  return Array.from({ length: n }, (_, i) =>
    vote(`fresh-${modelHash.slice(0, 2)}-${i}`, PRIOR_TRUST, modelHash, round),
  )
}

describe('trust-weighted sync agreement', () => {
  it('follows no model that only fresh identities name, however many', () => {
    for (const n of [1, 4, 50, 1000]) {
      const a = weighVotes(fresh(n, POISON), DEFAULT_AGREEMENT_POLICY)
      expect(a.agreed).toBeUndefined()
      // together they weigh what one newcomer does
      expect(a.ranked[0].support).toBeCloseTo(PRIOR_TRUST, 9)
      expect(a.ranked[0]).toMatchObject({ untrustedVoices: n, trustedVoices: 0 })
      expect(a.reason).toMatch(/needs 0.60/)
    }
  })

  it('one trusted peer outweighs any number of fresh identities', () => {
    const a = weighVotes([...fresh(1000, POISON), vote('trusted', 0.8, HONEST)], DEFAULT_AGREEMENT_POLICY)
    expect(a.agreed?.modelHash).toBe(HONEST)
    expect(a.ranked.map((c) => c.modelHash)).toEqual([HONEST, POISON])
    expect(a.ranked[1].support).toBeLessThan(0.1)
  })

  it('caps what untrusted peers add together, even when each is close to trusted', () => {
    const almost = Array.from({ length: 20 }, (_, i) => vote(`almost-${i}`, 0.59, POISON))
    const a = weighVotes(almost, DEFAULT_AGREEMENT_POLICY)
    expect(a.ranked[0].support).toBeCloseTo(DEFAULT_AGREEMENT_POLICY.untrustedCap, 9)
    expect(a.agreed).toBeUndefined()
  })

  it('needs more support than every other model together', () => {
    const split = weighVotes(
      [vote('t1', 0.7, HONEST), vote('t2', 0.7, POISON), vote('t3', 0.1, HONEST)],
      DEFAULT_AGREEMENT_POLICY,
    )
    expect(split.ranked[0].modelHash).toBe(HONEST)
    expect(split.agreed?.modelHash).toBe(HONEST)
    const tie = weighVotes([vote('t1', 0.7, HONEST), vote('t2', 0.7, POISON)], DEFAULT_AGREEMENT_POLICY)
    expect(tie.agreed).toBeUndefined()
    expect(tie.reason).toMatch(/not more than the other models together/)
  })

  it('counts each peer once and ignores trust out of range', () => {
    const a = weighVotes(
      [
        vote('t1', 0.7, POISON),
        vote('t1', 0.7, POISON),
        vote('t2', Number.NaN, POISON),
        vote('t3', 7, HONEST),
      ],
      DEFAULT_AGREEMENT_POLICY,
    )
    expect(a.ranked.find((c) => c.modelHash === POISON)?.support).toBeCloseTo(0.7, 9)
    expect(a.ranked.find((c) => c.modelHash === HONEST)?.support).toBe(1)
    expect(a.agreed?.modelHash).toBe(HONEST)
  })

  it("ranks equal support by the later round, then the lower hash, and takes the most trusted voice's round", () => {
    const a = weighVotes(
      [vote('t1', 0.7, POISON, 3), vote('t2', 0.7, HONEST, 4), vote('u', 0.1, HONEST, 9)],
      { ...DEFAULT_AGREEMENT_POLICY, untrustedCap: 0 },
    )
    expect(a.ranked.map((c) => [c.modelHash, c.round])).toEqual([
      [HONEST, 4],
      [POISON, 3],
    ])
  })
})
