import type { PeerId } from '@libp2p/interface'
import type { Logger } from '../logging/logger.ts'
import { peerGossipScore, SCORE_THRESHOLDS } from './gossip-scoring.ts'

/** A flooder that reconnects and floods again is hung up on again, but not more often than this. */
export const HANG_UP_AGAIN_MS = 10_000
/** A gossipsub heartbeat and a little: how long its scores are cached, so a penalty shows after at most this. */
export const HANG_UP_CHECK_MS = 1100
/** how many heartbeats a flooder's score is watched for reaching the graylist threshold before we give up */
export const HANG_UP_CHECKS = 5
/** peers remembered as hung up on, at most */
const MAX_REMEMBERED = 1024

/**
 * Closes our connections to a peer whose messages were rejected as a flood, once gossipsub has graylisted it.
 * Graylisted, a peer's messages are no longer judged, but gossipsub still reads and decodes every RPC it
 * sends; a closed connection spares us that. Not before the score shows the penalty: gossipsub keeps the score
 * of a disconnected peer only when it is not positive (and caches scores for a heartbeat), so hanging up early
 * would let the flooder come back with a clean slate. Its retained score makes it graylisted on return.
 */
export class FloodHangUp {
  readonly #pubsub: unknown
  readonly #hangUp: ((peer: PeerId) => Promise<void>) | undefined
  readonly #log: Logger
  readonly #clock: () => number
  readonly #recent = new Map<string, number>()
  readonly #timers = new Set<NodeJS.Timeout>()

  constructor(
    pubsub: unknown,
    hangUp: ((peer: PeerId) => Promise<void>) | undefined,
    log: Logger,
    clock: () => number = Date.now,
  ) {
    this.#pubsub = pubsub
    this.#hangUp = hangUp
    this.#log = log
    this.#clock = clock
  }

  /** `peer` just had a message rejected as a flood. */
  flooded(peer: PeerId): void {
    const hangUp = this.#hangUp
    if (hangUp === undefined) return
    const id = peer.toString()
    const now = this.#clock()
    const last = this.#recent.get(id)
    if (last !== undefined && now - last < HANG_UP_AGAIN_MS) return
    if (this.#recent.size >= MAX_REMEMBERED) this.#recent.clear()
    this.#recent.set(id, now)
    const attempt = (left: number): void => {
      const score = peerGossipScore(this.#pubsub, id)
      if (score !== undefined && score < SCORE_THRESHOLDS.graylistThreshold) {
        this.#log.info({ peer: id, score }, 'peer flooded: graylisted, hanging up')
        hangUp(peer).catch((err: unknown) => this.#log.debug({ err, peer: id }, 'hang-up failed'))
      } else if (left > 0) this.#later(() => attempt(left - 1))
    }
    this.#later(() => attempt(HANG_UP_CHECKS))
  }

  stop(): void {
    for (const t of this.#timers) clearTimeout(t)
    this.#timers.clear()
  }

  #later(f: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer)
      f()
    }, HANG_UP_CHECK_MS).unref()
    this.#timers.add(timer)
  }
}
