import { trust, trustUpperBound, type BetaState } from './beta-reputation.ts'

export type Pin = 'trusted' | 'banned'

/**
 * Reputation as gossipsub's application-specific score (P5). gossipsub adds `P5 x appSpecificWeight` to the
 * peer's score after capping the topic part, so with the weights in node/p2p/gossip-scoring.ts
 * (APP_SPECIFIC_WEIGHT = 10; topicScoreCap is gossipsub's default 10, the most a peer can earn from P1 + P2;
 * thresholds gossip -10, publish -50, graylist -80):
 *
 * - new and unremarkable peers: 0. Lack of evidence is no offence, or every newcomer would be shunned.
 * - liars (even the optimistic end of their honest-conduct estimate is below LIAR_FLOOR): from 0 down to
 *   -LIAR_APP_SCORE_MAX, linearly until CONFIRMED_LIAR_UPPER. One allowlisted report on a new peer gives
 *   ≈ -3 (-30 weighted: no gossip to or from it unless it earns P1/P2), two ≈ -6 (-60: past publish),
 *   five ≈ -9.2 (-92, + at most 10 from topics = -82: graylisted, its messages are dropped). At the maximum,
 *   -10 x 10 + 10 = -90 < -80.
 * - trusted peers: up to +TRUSTED_APP_SCORE_MAX (+10 weighted, enough for acceptPX at 10 with no topic score
 *   and for opportunistic grafting at 5), so meshes lean towards peers that have been right.
 * - banned by an admin: BANNED_APP_SCORE, -20 x 10 + 10 = -190, far below graylist whatever else it does.
 *
 * Liars are judged on `conduct`, the evidence without the soft kind (never-corroborated): an honest peer whose
 * attackers we never see weighs little in blocking, but is still a good relay and must not be graylisted.
 */
export const LIAR_FLOOR = 0.25
export const CONFIRMED_LIAR_UPPER = 0.05
export const LIAR_APP_SCORE_MAX = 10
/** trust (the cautious estimate) above which a peer earns a bonus, reaching the maximum at trust 1 */
export const TRUSTED_FLOOR = 0.5
export const TRUSTED_APP_SCORE_MAX = 1
export const BANNED_APP_SCORE = -20

export interface GossipScoreInput {
  /** all evidence, decayed to now */
  state: BetaState
  /** all evidence but the soft kind, decayed to now */
  conduct: BetaState
  pinned?: Pin
}

export function gossipAppScore(input: GossipScoreInput): number {
  if (input.pinned === 'banned') return BANNED_APP_SCORE
  if (input.pinned === 'trusted') return TRUSTED_APP_SCORE_MAX
  const upper = trustUpperBound(input.conduct)
  if (upper < LIAR_FLOOR) {
    const guilt = Math.min(1, (LIAR_FLOOR - upper) / (LIAR_FLOOR - CONFIRMED_LIAR_UPPER))
    return -LIAR_APP_SCORE_MAX * guilt
  }
  const t = trust(input.state)
  if (t > TRUSTED_FLOOR) return (TRUSTED_APP_SCORE_MAX * (t - TRUSTED_FLOOR)) / (1 - TRUSTED_FLOOR)
  return 0
}
