import type { GossipsubOpts } from '@libp2p/gossipsub'
import { TOPICS } from '../../protocol/topics.ts'

/**
 * Gossipsub peer-scoring weights, named so they can be reasoned about (and changed) in one place.
 *
 * Alerts are sporadic: an honest peer may forward nothing for hours, so the mesh-delivery-rate penalties that
 * suit block-gossip chains (P3, P3b) are off. What matters is P4: every message our validator rejects
 * (bad signature, malformed, invalid body, and a flood: far more than the peer's budget or than any honest relay
 * forwards of one sender, see node/alerts/alert-service.ts) costs the forwarding peer
 * `INVALID_MESSAGE_WEIGHT x count^2`, so three put a peer past the graylist threshold and we stop listening to
 * it. A flood of valid messages is rejected for this reason: `ignore` costs nothing, and with it a flooder's
 * score would only rise with its first deliveries.
 */
export const INVALID_MESSAGE_WEIGHT = -20
/** per decay interval (1 s): the penalty halves in about 70 s, then forgiveness is gradual */
export const INVALID_MESSAGE_DECAY = 0.99
export const ALERT_TOPIC_WEIGHT = 1
/** blocklist summaries: forged or malformed ones cost the same P4 penalty; first deliveries count for less */
export const BLOCKLIST_TOPIC_WEIGHT = 0.5
/** model updates: a poisoned update that fails validation costs its forwarder like any invalid message */
export const MODEL_TOPIC_WEIGHT = 0.5
export const FIRST_DELIVERY_WEIGHT = 0.5
export const FIRST_DELIVERY_CAP = 20
export const TIME_IN_MESH_WEIGHT = 0.01
export const TIME_IN_MESH_CAP = 600
/** reputation (node/reputation) feeds gossipsub through P5, weighted by this */
export const APP_SPECIFIC_WEIGHT = 10
/** more than this many peers from one IP is suspicious on the real network... */
export const IP_COLOCATION_THRESHOLD = 10
export const IP_COLOCATION_WEIGHT = -5
/** ...but not on loopback, where the simulator and tests run whole networks */
export const IP_COLOCATION_WHITELIST = ['127.0.0.1', '::1']

export const SCORE_THRESHOLDS = {
  gossipThreshold: -10,
  publishThreshold: -50,
  graylistThreshold: -80,
  acceptPXThreshold: 10,
  opportunisticGraftThreshold: 5,
} as const

export function scoreParams(appSpecificScore: (peerId: string) => number): Partial<GossipsubOpts> {
  return {
    scoreParams: {
      appSpecificScore,
      appSpecificWeight: APP_SPECIFIC_WEIGHT,
      IPColocationFactorThreshold: IP_COLOCATION_THRESHOLD,
      IPColocationFactorWeight: IP_COLOCATION_WEIGHT,
      IPColocationFactorWhitelist: new Set(IP_COLOCATION_WHITELIST),
      topics: {
        [TOPICS.blocklists]: topicScore(BLOCKLIST_TOPIC_WEIGHT),
        [TOPICS.models]: topicScore(MODEL_TOPIC_WEIGHT),
        [TOPICS.alerts]: topicScore(ALERT_TOPIC_WEIGHT),
      },
    },
    scoreThresholds: SCORE_THRESHOLDS,
  }
}

/** Per-topic parameters shared by our sporadic topics: P4 (invalid messages) is what matters, P3 is off. */
function topicScore(topicWeight: number) {
  return {
    topicWeight,
    timeInMeshWeight: TIME_IN_MESH_WEIGHT,
    timeInMeshQuantum: 1000,
    timeInMeshCap: TIME_IN_MESH_CAP,
    firstMessageDeliveriesWeight: FIRST_DELIVERY_WEIGHT,
    firstMessageDeliveriesDecay: 0.9,
    firstMessageDeliveriesCap: FIRST_DELIVERY_CAP,
    meshMessageDeliveriesWeight: 0,
    meshMessageDeliveriesDecay: 0.5,
    meshMessageDeliveriesCap: 100,
    meshMessageDeliveriesThreshold: 1,
    meshMessageDeliveriesWindow: 10,
    meshMessageDeliveriesActivation: 5000,
    meshFailurePenaltyWeight: 0,
    meshFailurePenaltyDecay: 0.5,
    invalidMessageDeliveriesWeight: INVALID_MESSAGE_WEIGHT,
    invalidMessageDeliveriesDecay: INVALID_MESSAGE_DECAY,
  }
}

/**
 * A peer's current gossipsub score. The implementation has `getScore`, but the `GossipSub` interface that
 * `@libp2p/gossipsub` exports does not declare it; undefined where it is missing or not a number.
 */
export function peerGossipScore(pubsub: unknown, peerId: string): number | undefined {
  const get = (pubsub as { getScore?: (id: string) => number }).getScore
  if (typeof get !== 'function') return undefined
  const score = get.call(pubsub, peerId)
  return Number.isFinite(score) ? score : undefined
}
