/**
 * The privacy accountant: composes the per-step RDP of the sampled Gaussian mechanism over everything a node has
 * trained (possibly heterogeneous rounds, each with its own sampling rate and noise) and converts it to the
 * (epsilon, delta) the node shows as "privacy spent". Pure functions over plain data; mirrors Opacus' RDPAccountant.
 */
import { PrivacyBudgetUnreachableError, InvalidPrivacyParameterError } from './privacy-errors.ts'
import {
  assertValidDelta,
  assertValidNoiseMultiplier,
  assertValidOrders,
  assertValidSampleRate,
  assertValidSteps,
} from './privacy-parameters.ts'
import { rdpSampledGaussian } from './rdp-sampled-gaussian.ts'
import { DEFAULT_RDP_CONVERSION, epsilonFromRdp } from './rdp-to-dp.ts'
import type { RdpConversion } from './rdp-to-dp.ts'

/**
 * Opacus' RDPAccountant.DEFAULT_ALPHAS: [1 + x / 10.0 for x in range(1, 100)] + list(range(12, 64)), i.e. 1.1 ... 10.9
 * then 12 ... 63 (there is no 11). Built with the same floating-point operations so the values are bit-identical.
 */
export const DEFAULT_ORDERS: readonly number[] = Object.freeze([
  ...Array.from({ length: 99 }, (_, k) => 1 + (k + 1) / 10.0),
  ...Array.from({ length: 52 }, (_, k) => 12 + k),
])

/** One homogeneous stretch of training: `steps` noisy steps at the same sampling rate and noise multiplier. */
export interface SampledGaussianSteps {
  /** probability that a given record is in a step's (Poisson-sampled) batch, usually batch size / data set size */
  sampleRate: number
  /** noise standard deviation divided by the clipping norm (L2 sensitivity) */
  noiseMultiplier: number
  steps: number
}

export interface AccountantOptions {
  /** RDP orders to optimise over; DEFAULT_ORDERS unless given */
  orders?: readonly number[]
  /** RDP to (epsilon, delta) conversion; 'balle2020' (Opacus) unless given */
  method?: RdpConversion
}

export interface PrivacySpent {
  epsilon: number
  delta: number
  /** the RDP order that gave epsilon; NaN when nothing has been spent or no order gave a bound */
  order: number
}

function assertValidStepsEntry(entry: SampledGaussianSteps): void {
  if (entry === null || typeof entry !== 'object') {
    throw new InvalidPrivacyParameterError(
      'each history entry must be { sampleRate, noiseMultiplier, steps }',
    )
  }
  assertValidSampleRate(entry.sampleRate)
  assertValidNoiseMultiplier(entry.noiseMultiplier)
  assertValidSteps(entry.steps)
}

/**
 * The total RDP at each order of a history of sampled Gaussian steps: per-step RDP times steps, summed over the
 * entries (RDP composes additively at a fixed order).
 */
export function composeRdp(
  history: readonly SampledGaussianSteps[],
  orders: readonly number[] = DEFAULT_ORDERS,
): number[] {
  if (!Array.isArray(history)) throw new InvalidPrivacyParameterError('history must be an array')
  assertValidOrders(orders)
  for (const entry of history) assertValidStepsEntry(entry)
  const total = orders.map(() => 0)
  for (const { sampleRate, noiseMultiplier, steps } of history) {
    // Zero steps spend nothing. (numpy would give Infinity * 0 = NaN for a noiseless zero-step entry.)
    if (steps === 0) continue
    const perStep = rdpSampledGaussian(sampleRate, noiseMultiplier, orders)
    for (let i = 0; i < total.length; i++) total[i] += perStep[i] * steps
  }
  return total
}

/**
 * (epsilon, delta) spent by a whole history. Like Opacus' RDPAccountant, a history without any step has spent
 * nothing: epsilon 0 (the RDP conversion alone would report a small positive slack even for zero RDP).
 */
export function epsilonForHistory(
  history: readonly SampledGaussianSteps[],
  delta: number,
  options: AccountantOptions = {},
): PrivacySpent {
  const orders = options.orders ?? DEFAULT_ORDERS
  const method = options.method ?? DEFAULT_RDP_CONVERSION
  assertValidDelta(delta)
  const rdp = composeRdp(history, orders)
  if (history.every((entry) => entry.steps === 0)) return { epsilon: 0, delta, order: NaN }
  const { epsilon, order } = epsilonFromRdp(orders, rdp, delta, method)
  return { epsilon, delta, order }
}

export interface ComputeEpsilonInput extends SampledGaussianSteps, AccountantOptions {
  delta: number
}

/** (epsilon, delta) after `steps` identical steps of the sampled Gaussian mechanism. */
export function computeEpsilon(input: ComputeEpsilonInput): PrivacySpent {
  const { sampleRate, noiseMultiplier, steps, delta, orders, method } = input
  return epsilonForHistory([{ sampleRate, noiseMultiplier, steps }], delta, { orders, method })
}

export interface NoiseForBudgetInput extends AccountantOptions {
  targetEpsilon: number
  delta: number
  sampleRate: number
  steps: number
  /** width of the final bracket on sigma; 0.01 unless given */
  tolerance?: number
}

/** Opacus gives up at the same noise multiplier. */
export const MAX_NOISE_MULTIPLIER = 1e6
export const DEFAULT_NOISE_TOLERANCE = 0.01

/**
 * The smallest noise multiplier (to within `tolerance`) whose epsilon after `steps` steps at `sampleRate` is
 * <= targetEpsilon, by doubling then bisection as Opacus' get_noise_multiplier does. The returned sigma always
 * meets the budget; sigma - tolerance does not. Epsilon falls monotonically as sigma grows, which bisection needs.
 */
export function noiseMultiplierForBudget(input: NoiseForBudgetInput): number {
  const { targetEpsilon, delta, sampleRate, steps } = input
  const tolerance = input.tolerance ?? DEFAULT_NOISE_TOLERANCE
  const options: AccountantOptions = { orders: input.orders, method: input.method }
  if (!(typeof targetEpsilon === 'number' && targetEpsilon > 0 && Number.isFinite(targetEpsilon))) {
    throw new InvalidPrivacyParameterError(`target epsilon must be a finite number > 0, got ${targetEpsilon}`)
  }
  assertValidDelta(delta)
  assertValidSampleRate(sampleRate)
  assertValidSteps(steps)
  if (sampleRate === 0 || steps === 0) {
    throw new InvalidPrivacyParameterError(
      'sample rate and steps must be > 0: no noise is needed when nothing is spent',
    )
  }
  if (!(typeof tolerance === 'number' && tolerance > 0 && Number.isFinite(tolerance))) {
    throw new InvalidPrivacyParameterError(`tolerance must be a finite number > 0, got ${tolerance}`)
  }

  const epsilonAt = (noiseMultiplier: number): number =>
    computeEpsilon({ sampleRate, noiseMultiplier, steps, delta, ...options }).epsilon

  // Invariant: epsilonAt(low) > target (sigma = 0 gives Infinity), epsilonAt(high) <= target.
  let low = 0
  let high = 1
  while (!(epsilonAt(high) <= targetEpsilon)) {
    low = high
    high *= 2
    if (high > MAX_NOISE_MULTIPLIER) {
      throw new PrivacyBudgetUnreachableError(
        `no noise multiplier up to ${MAX_NOISE_MULTIPLIER} reaches epsilon ${targetEpsilon} at delta ${delta}`,
      )
    }
  }
  while (high - low > tolerance) {
    const mid = (low + high) / 2
    if (epsilonAt(mid) <= targetEpsilon) high = mid
    else low = mid
  }
  return high
}
