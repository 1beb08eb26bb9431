import type { Outcome } from './evidence.ts'

/**
 * A peer's reputation as a Beta distribution over "the next alert from this peer is true": `alpha` counts
 * (weighted) evidence that its alerts were true, `beta` that they were not, both including the prior. Pure
 * functions over plain data; the stateful side is `ReputationBook`.
 */
export interface BetaState {
  alpha: number
  beta: number
  /** ms since the epoch at which the counts were last decayed */
  updatedAt: number
}

/**
 * The prior is pessimistic (expected 0.2): a peer we know nothing about is worth little, so a crowd of fresh
 * identities adds up to little until each one has been right on its own.
 */
export const PRIOR_ALPHA = 1
export const PRIOR_BETA = 4
/** old evidence halves every 30 days, so a reformed peer recovers and a sleeper cannot live off old credit */
export const DEFAULT_HALF_LIFE_MS = 30 * 24 * 3600 * 1000
/**
 * Trust is the mean minus this many standard deviations: what we are fairly sure of, not what we hope. It
 * keeps a new peer (≈0.04) and a peer right once (≈0.16) far below one right thirty times (≈0.83).
 */
export const UNCERTAINTY_K = 1

export class InvalidBetaStateError extends Error {
  override name = 'InvalidBetaStateError'
}

export function priorState(now: number): BetaState {
  return { alpha: PRIOR_ALPHA, beta: PRIOR_BETA, updatedAt: now }
}

/**
 * Exponential forgetting: the evidence above the prior shrinks by half every `halfLifeMs`, so the state drifts
 * back to the prior. A clock that went backwards forgets nothing.
 */
export function decay(state: BetaState, now: number, halfLifeMs: number = DEFAULT_HALF_LIFE_MS): BetaState {
  const elapsed = now - state.updatedAt
  if (!(elapsed > 0) || !(halfLifeMs > 0)) return state
  const keep = Math.pow(0.5, elapsed / halfLifeMs)
  return {
    alpha: PRIOR_ALPHA + (state.alpha - PRIOR_ALPHA) * keep,
    beta: PRIOR_BETA + (state.beta - PRIOR_BETA) * keep,
    updatedAt: now,
  }
}

/** Decays to `now`, then adds `weight` units of evidence. Non-positive or non-finite weights add nothing. */
export function record(
  state: BetaState,
  outcome: Outcome,
  weight: number,
  now: number,
  halfLifeMs: number = DEFAULT_HALF_LIFE_MS,
): BetaState {
  const decayed = decay(state, now, halfLifeMs)
  if (!(weight > 0) || !Number.isFinite(weight)) return decayed
  return outcome === 'positive'
    ? { ...decayed, alpha: decayed.alpha + weight }
    : { ...decayed, beta: decayed.beta + weight }
}

export function expected(state: BetaState): number {
  return state.alpha / (state.alpha + state.beta)
}

export function stddev(state: BetaState): number {
  const n = state.alpha + state.beta
  return Math.sqrt((state.alpha * state.beta) / (n * n * (n + 1)))
}

/** How much a peer's alerts should weigh, in [0, 1]: the cautious end of what the evidence supports. */
export function trust(state: BetaState, k: number = UNCERTAINTY_K): number {
  return clamp01(expected(state) - k * stddev(state))
}

/** The optimistic end: if even this is low, the evidence that the peer lies is strong. */
export function trustUpperBound(state: BetaState, k: number = UNCERTAINTY_K): number {
  return clamp01(expected(state) + k * stddev(state))
}

/** For state read from disk: counts must be finite and at least the prior (evidence is only ever added). */
export function parseBetaState(value: unknown): BetaState {
  const v = value as Partial<BetaState> | null
  if (
    typeof v !== 'object' ||
    v === null ||
    !Number.isFinite(v.alpha) ||
    !Number.isFinite(v.beta) ||
    !Number.isFinite(v.updatedAt) ||
    (v.alpha as number) < PRIOR_ALPHA ||
    (v.beta as number) < PRIOR_BETA
  ) {
    throw new InvalidBetaStateError(`not a Beta reputation state: ${JSON.stringify(value)}`)
  }
  return { alpha: v.alpha as number, beta: v.beta as number, updatedAt: v.updatedAt as number }
}

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x
}
