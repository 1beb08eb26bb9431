/**
 * Federated rounds run on a schedule every node derives from its own clock, so no one has to start a round:
 * round r covers [epoch + r * roundMs, epoch + (r + 1) * roundMs). Within a round a node trains and publishes at
 * `trainAt`, collects peers' updates until `closeAt`, then aggregates, gates and adopts. The rest of the round is
 * margin: every node must have adopted round r's model before anyone trains round r + 1 on it, or their updates'
 * base hashes would not match. Clock skew between nodes eats into the same margin.
 */

/** wait: before this round's training; collect: trained (or training) and collecting; closed: aggregated */
export const ROUND_PHASES = ['wait', 'collect', 'closed'] as const
export type RoundPhase = (typeof ROUND_PHASES)[number]

export interface RoundClockInit {
  roundMs: number
  /** ms since the Unix epoch at which round 0 starts */
  epochMs: number
  /** fraction of the round at which nodes train and publish */
  trainFraction: number
  /** fraction of the round at which collection ends and aggregation runs */
  closeFraction: number
}

export const DEFAULT_ROUND_CLOCK_INIT: RoundClockInit = {
  roundMs: 10 * 60_000,
  epochMs: 0,
  trainFraction: 0.05,
  closeFraction: 0.8,
}

/**
 * The last quarter of the collection window is left for gossip: an update published later could reach some nodes
 * before their close and others after, and then they would aggregate different sets.
 */
export const PROPAGATION_SHARE = 0.25

export interface RoundPosition {
  round: number
  phase: RoundPhase
  start: number
  trainAt: number
  /** an update not published by now is not published this round */
  publishBy: number
  closeAt: number
  end: number
}

export class InvalidRoundClockError extends Error {
  override name = 'InvalidRoundClockError'
}

export function assertRoundClockInit(init: RoundClockInit): void {
  const { roundMs, epochMs, trainFraction, closeFraction } = init
  if (!(Number.isFinite(roundMs) && roundMs >= 100)) {
    throw new InvalidRoundClockError(`roundMs must be at least 100, got ${roundMs}`)
  }
  if (!Number.isFinite(epochMs)) throw new InvalidRoundClockError(`epochMs must be finite, got ${epochMs}`)
  if (!(trainFraction >= 0 && trainFraction < closeFraction && closeFraction < 1)) {
    throw new InvalidRoundClockError(
      `need 0 <= trainFraction < closeFraction < 1, got ${trainFraction} and ${closeFraction}`,
    )
  }
}

/** Where `now` falls in the schedule. Pure. */
export function roundAt(init: RoundClockInit, now: number): RoundPosition {
  const round = Math.max(0, Math.floor((now - init.epochMs) / init.roundMs))
  const start = init.epochMs + round * init.roundMs
  const trainAt = start + Math.floor(init.trainFraction * init.roundMs)
  const closeAt = start + Math.floor(init.closeFraction * init.roundMs)
  const publishBy = closeAt - Math.floor((closeAt - trainAt) * PROPAGATION_SHARE)
  const end = start + init.roundMs
  const phase: RoundPhase = now < trainAt ? 'wait' : now < closeAt ? 'collect' : 'closed'
  return { round, phase, start, trainAt, publishBy, closeAt, end }
}

/**
 * Rounds a claim may run ahead of this node's clock: a peer whose clock is a little fast may already be one round
 * on. Anything further is a claim no honest peer can make, and a huge claimed round would otherwise win every
 * "later round first" tie and outlive every "recent announce" window.
 */
export const ROUND_CLAIM_SLACK = 1

/** Whether a round a peer claims (a synced model's, an announce's) fits this node's round clock at `now`. Pure. */
export function roundFits(
  init: RoundClockInit,
  claimed: number,
  now: number,
  slack: number = ROUND_CLAIM_SLACK,
): boolean {
  return Number.isSafeInteger(claimed) && claimed >= 0 && claimed <= roundAt(init, now).round + slack
}

export type RoundEvent = { kind: 'train' | 'close'; round: number; at: number }

/** The next train or close event strictly after `after` (ms). */
export function nextRoundEvent(init: RoundClockInit, after: number): RoundEvent {
  const p = roundAt(init, after)
  if (after < p.trainAt) return { kind: 'train', round: p.round, at: p.trainAt }
  if (after < p.closeAt) return { kind: 'close', round: p.round, at: p.closeAt }
  const next = roundAt(init, p.end)
  return { kind: 'train', round: next.round, at: next.trainAt }
}

/**
 * Fires `onEvent` at each train and close time, re-reading the clock after every event so a slow handler or a
 * suspended process skips to the schedule instead of replaying missed events. Handlers run one at a time.
 */
export class RoundClock {
  readonly init: RoundClockInit
  readonly #clock: () => number
  #timer?: NodeJS.Timeout
  #running = false
  #last = -Infinity

  constructor(init: Partial<RoundClockInit> = {}, clock: () => number = Date.now) {
    this.init = { ...DEFAULT_ROUND_CLOCK_INIT, ...init }
    assertRoundClockInit(this.init)
    this.#clock = clock
  }

  position(now: number = this.#clock()): RoundPosition {
    return roundAt(this.init, now)
  }

  /** whether a peer's claimed round fits this clock now (see `roundFits`) */
  fits(claimed: number, now: number = this.#clock()): boolean {
    return roundFits(this.init, claimed, now)
  }

  start(onEvent: (event: RoundEvent) => Promise<void> | void): void {
    this.#running = true
    this.#last = this.#clock()
    const schedule = () => {
      if (!this.#running) return
      const event = nextRoundEvent(this.init, Math.max(this.#last, this.#clock() - 1))
      this.#timer = setTimeout(
        async () => {
          this.#last = event.at
          try {
            // An event whose time passed long ago (the process slept) is dropped, not run late.
            if (this.#clock() - event.at < this.init.roundMs * (1 - this.init.closeFraction))
              await onEvent(event)
          } finally {
            schedule()
          }
        },
        Math.max(0, event.at - this.#clock()),
      )
      this.#timer.unref?.()
    }
    schedule()
  }

  stop(): void {
    this.#running = false
    clearTimeout(this.#timer)
  }
}
