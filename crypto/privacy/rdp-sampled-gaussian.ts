/**
 * Rényi DP of one step of the Poisson-subsampled Gaussian mechanism (sampling rate q, noise multiplier sigma,
 * L2 sensitivity 1), following Mironov, Talwar & Zhang, "Rényi Differential Privacy of the Sampled Gaussian
 * Mechanism" (2019, arXiv:1908.10530, section 3.3) exactly as Opacus (opacus/accountants/analysis/rdp.py) and
 * TF-Privacy compute it, so that the epsilon a node reports is the one those libraries would report.
 */
import { assertValidNoiseMultiplier, assertValidOrders, assertValidSampleRate } from './privacy-parameters.ts'
import { NumericalDomainError } from './privacy-errors.ts'
import { logAbsBinomial, logAdd, logErfc, logSub } from './special-functions.ts'

/** Opacus stops the fractional-order series once both new terms are below e^-30 (A_alpha is about 1 or more). */
const FRACTIONAL_SERIES_CUTOFF = -30
/**
 * Opacus has no cap; ours only turns a would-be infinite loop into an error. Realistic parameters need tens of
 * terms, and q = 0.5, sigma = 0.3 at order 1.1 needs about 2,000.
 */
const FRACTIONAL_SERIES_MAX_TERMS = 1_000_000

/** log A_alpha for integer alpha: a finite binomial sum (Opacus _compute_log_a_for_int_alpha). */
function logAIntegerOrder(q: number, sigma: number, alpha: number): number {
  const logQ = Math.log(q)
  const log1mQ = Math.log1p(-q)
  let logA = -Infinity
  for (let i = 0; i <= alpha; i++) {
    const logCoef = logAbsBinomial(alpha, i).logAbs + i * logQ + (alpha - i) * log1mQ
    logA = logAdd(logA, logCoef + (i * i - i) / (2 * sigma * sigma))
  }
  return logA
}

/**
 * log A_alpha for fractional alpha: the integral split at z0 into two alternating series of erfc terms
 * (Opacus _compute_log_a_for_frac_alpha).
 */
function logAFractionalOrder(q: number, sigma: number, alpha: number): number {
  const logQ = Math.log(q)
  const log1mQ = Math.log1p(-q)
  const twoSigmaSq = 2 * sigma * sigma
  const sqrt2Sigma = Math.SQRT2 * sigma
  const z0 = sigma * sigma * Math.log(1 / q - 1) + 0.5
  let logA0 = -Infinity
  let logA1 = -Infinity
  for (let i = 0; ; i++) {
    if (i >= FRACTIONAL_SERIES_MAX_TERMS) {
      throw new NumericalDomainError(`RDP series did not converge (q=${q}, sigma=${sigma}, order=${alpha})`)
    }
    const { logAbs: logCoef, sign } = logAbsBinomial(alpha, i)
    const j = alpha - i

    const logT0 = logCoef + i * logQ + j * log1mQ
    const logT1 = logCoef + j * logQ + i * log1mQ

    const logE0 = Math.log(0.5) + logErfc((i - z0) / sqrt2Sigma)
    const logE1 = Math.log(0.5) + logErfc((z0 - j) / sqrt2Sigma)

    const logS0 = logT0 + (i * i - i) / twoSigmaSq + logE0
    const logS1 = logT1 + (j * j - j) / twoSigmaSq + logE1

    if (sign > 0) {
      logA0 = logAdd(logA0, logS0)
      logA1 = logAdd(logA1, logS1)
    } else {
      logA0 = logSub(logA0, logS0)
      logA1 = logSub(logA1, logS1)
    }

    if (Math.max(logS0, logS1) < FRACTIONAL_SERIES_CUTOFF) break
  }
  return logAdd(logA0, logA1)
}

/** RDP at one order, with Opacus' special cases (no sampling, no noise, no subsampling) checked in its order. */
function rdpAtOrder(q: number, sigma: number, alpha: number): number {
  if (q === 0) return 0
  if (sigma === 0) return Infinity
  if (q === 1) return alpha / (2 * sigma * sigma)
  const logA = Number.isInteger(alpha)
    ? logAIntegerOrder(q, sigma, alpha)
    : logAFractionalOrder(q, sigma, alpha)
  // A Rényi divergence is >= 0, but with lots of noise A_alpha is 1 + tiny and the log-space sum can round to
  // log A ~ -1e-14. Opacus passes that through; we clamp so callers can insist on non-negative RDP.
  return Math.max(0, logA / (alpha - 1))
}

/**
 * The RDP epsilon(alpha) of ONE step of the sampled Gaussian mechanism at each order. Compose T identical steps
 * by multiplying by T. q = 0 gives 0, sigma = 0 gives Infinity, q = 1 gives the plain Gaussian alpha / (2 sigma^2).
 */
export function rdpSampledGaussian(q: number, noiseMultiplier: number, orders: readonly number[]): number[] {
  assertValidSampleRate(q)
  assertValidNoiseMultiplier(noiseMultiplier)
  assertValidOrders(orders)
  return orders.map((alpha) => rdpAtOrder(q, noiseMultiplier, alpha))
}
