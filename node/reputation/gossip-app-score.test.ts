import { describe, expect, it } from 'vitest'
import { APP_SPECIFIC_WEIGHT, SCORE_THRESHOLDS } from '../p2p/gossip-scoring.ts'
import { priorState, record, type BetaState } from './beta-reputation.ts'
import { EVIDENCE, type EvidenceKind } from './evidence.ts'
import {
  BANNED_APP_SCORE,
  gossipAppScore,
  LIAR_APP_SCORE_MAX,
  TRUSTED_APP_SCORE_MAX,
} from './gossip-app-score.ts'

/** gossipsub's default topicScoreCap: the most P1 + P2 can add */
const TOPIC_SCORE_CAP = 10

function apply(state: BetaState, kind: EvidenceKind, times = 1): BetaState {
  let s = state
  for (let i = 0; i < times; i++) s = record(s, EVIDENCE[kind].outcome, EVIDENCE[kind].weight, 0)
  return s
}

function score(kind: EvidenceKind | undefined, times = 1): number {
  const s = kind === undefined ? priorState(0) : apply(priorState(0), kind, times)
  return gossipAppScore({ state: s, conduct: EVIDENCE[kind ?? 'invalid-message'].soft ? priorState(0) : s })
}

describe('gossip app score', () => {
  it('is neutral for new peers', () => {
    expect(score(undefined)).toBe(0)
    expect(score('corroborated-by-own-detector')).toBe(0)
  })

  it('grows more negative with each proven lie, to graylisting', () => {
    const scores = [1, 2, 3, 5].map((n) => score('marked-false-by-admin', n))
    for (let i = 1; i < scores.length; i++) expect(scores[i]).toBeLessThan(scores[i - 1])
    expect(scores[0] * APP_SPECIFIC_WEIGHT).toBeLessThan(SCORE_THRESHOLDS.gossipThreshold)
    expect(scores[1] * APP_SPECIFIC_WEIGHT).toBeLessThan(SCORE_THRESHOLDS.publishThreshold)
    expect(scores[3] * APP_SPECIFIC_WEIGHT + TOPIC_SCORE_CAP).toBeLessThan(SCORE_THRESHOLDS.graylistThreshold)
    expect(score('marked-false-by-admin', 100)).toBe(-LIAR_APP_SCORE_MAX)
  })

  it('never treats a peer as a liar for reporting addresses only we allowlist', () => {
    // an honest node whose uptime checker we allowlist reports it at every decision, for months
    expect(score('reported-allowlisted-address', 500)).toBe(0)
    expect(EVIDENCE['reported-allowlisted-address'].soft).toBe(true)
  })

  it('never treats an honest peer we cannot corroborate as a liar', () => {
    const unseen = apply(priorState(0), 'never-corroborated', 500)
    expect(gossipAppScore({ state: unseen, conduct: priorState(0) })).toBe(0)
  })

  it('is mildly positive for trusted peers', () => {
    const good = score('corroborated-by-own-detector', 30)
    expect(good).toBeGreaterThan(0)
    expect(good).toBeLessThanOrEqual(TRUSTED_APP_SCORE_MAX)
  })

  it('puts banned peers below graylist whatever their topic score', () => {
    const good = apply(priorState(0), 'corroborated-by-own-detector', 30)
    const banned = gossipAppScore({ state: good, conduct: good, pinned: 'banned' })
    expect(banned).toBe(BANNED_APP_SCORE)
    expect(banned * APP_SPECIFIC_WEIGHT + TOPIC_SCORE_CAP).toBeLessThan(SCORE_THRESHOLDS.graylistThreshold)
    const liar = apply(priorState(0), 'marked-false-by-admin', 10)
    expect(gossipAppScore({ state: liar, conduct: liar, pinned: 'trusted' })).toBe(TRUSTED_APP_SCORE_MAX)
  })
})
