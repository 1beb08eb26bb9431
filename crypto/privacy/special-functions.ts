/**
 * Numerical helpers for the RDP accountant: log-space arithmetic, erfc / log erfc and log-gamma / log-binomial.
 * JavaScript has none of these, and the accountant needs them accurate far into the tails (log erfc at arguments
 * where erfc itself underflows), so they are written out here from published approximations.
 */
import { NumericalDomainError } from './privacy-errors.ts'

// ---------------------------------------------------------------------------------------------------------------
// Log-space arithmetic (0 is -Infinity), as in Opacus' _log_add / _log_sub.
// ---------------------------------------------------------------------------------------------------------------

/** log(exp(logx) + exp(logy)) without overflow. */
export function logAdd(logx: number, logy: number): number {
  const a = Math.min(logx, logy)
  const b = Math.max(logx, logy)
  if (a === -Infinity) return b
  return Math.log1p(Math.exp(a - b)) + b
}

/** log(exp(logx) - exp(logy)); logx must be >= logy. */
export function logSub(logx: number, logy: number): number {
  if (logx < logy) throw new NumericalDomainError('log-space subtraction would be negative')
  if (logy === -Infinity) return logx
  if (logx === logy) return -Infinity
  const diff = Math.expm1(logx - logy)
  // Python's math.expm1 raises OverflowError here and Opacus then returns logx, which is exact to double precision.
  if (diff === Infinity) return logx
  return Math.log(diff) + logy
}

// ---------------------------------------------------------------------------------------------------------------
// erf / erfc / erfcx: W. J. Cody, "Rational Chebyshev approximations for the error function", Math. Comp. 23
// (1969), as in his CALERF routine (SPECFUN, 1990). Near-minimax to ~18 significant digits in each interval.
// ---------------------------------------------------------------------------------------------------------------

const INV_SQRT_PI = 5.6418958354775628695e-1
const ERF_THRESHOLD = 0.46875
const ERF_XSMALL = 1.11e-16
/** Above this 1 - 1/(2x^2) == 1 in double precision, so erfcx(x) = 1/(x sqrt(pi)). */
const ERFCX_XHUGE = 6.71e7

const ERF_A = [
  3.1611237438705656, 1.13864154151050156e2, 3.77485237685302021e2, 3.20937758913846947e3,
  1.85777706184603153e-1,
] as const
const ERF_B = [
  2.36012909523441209e1, 2.44024637934444173e2, 1.28261652607737228e3, 2.84423683343917062e3,
] as const
const ERF_C = [
  5.64188496988670089e-1, 8.88314979438837594, 6.61191906371416295e1, 2.98635138197400131e2,
  8.8195222124176909e2, 1.71204761263407058e3, 2.05107837782607147e3, 1.23033935479799725e3,
  2.15311535474403846e-8,
] as const
const ERF_D = [
  1.57449261107098347e1, 1.17693950891312499e2, 5.37181101862009858e2, 1.62138957456669019e3,
  3.29079923573345963e3, 4.36261909014324716e3, 3.43936767414372164e3, 1.23033935480374942e3,
] as const
const ERF_P = [
  3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1, 1.60837851487422766e-2,
  6.58749161529837803e-4, 1.63153871373020978e-2,
] as const
const ERF_Q = [
  2.56852019228982242, 1.87295284992346047, 5.27905102951428412e-1, 6.05183413124413191e-2,
  2.33520497626869185e-3,
] as const

/** erf(x) for |x| <= 0.46875. */
function erfNearZero(x: number): number {
  const ysq = Math.abs(x) > ERF_XSMALL ? x * x : 0
  let xnum = ERF_A[4] * ysq
  let xden = ysq
  for (let i = 0; i < 3; i++) {
    xnum = (xnum + ERF_A[i]) * ysq
    xden = (xden + ERF_B[i]) * ysq
  }
  return (x * (xnum + ERF_A[3])) / (xden + ERF_B[3])
}

/** exp(y^2) erfc(y) for y > 0.46875. */
function erfcxPositiveTail(y: number): number {
  if (y <= 4) {
    let xnum = ERF_C[8] * y
    let xden = y
    for (let i = 0; i < 7; i++) {
      xnum = (xnum + ERF_C[i]) * y
      xden = (xden + ERF_D[i]) * y
    }
    return (xnum + ERF_C[7]) / (xden + ERF_D[7])
  }
  if (y >= ERFCX_XHUGE) return INV_SQRT_PI / y
  const ysq = 1 / (y * y)
  let xnum = ERF_P[5] * ysq
  let xden = ysq
  for (let i = 0; i < 4; i++) {
    xnum = (xnum + ERF_P[i]) * ysq
    xden = (xden + ERF_Q[i]) * ysq
  }
  const r = (ysq * (xnum + ERF_P[4])) / (xden + ERF_Q[4])
  return (INV_SQRT_PI - r) / y
}

/**
 * exp(-y^2) for the tail, split as Cody does: y^2 rounded to a multiple of 1/16 is exact, so the rounding error of
 * y*y does not get amplified by exp.
 */
function expMinusSquare(y: number): number {
  const ysq = Math.trunc(y * 16) / 16
  const del = (y - ysq) * (y + ysq)
  return Math.exp(-ysq * ysq) * Math.exp(-del)
}

/** erfc(y) for y > 0.46875 (underflows to 0 past y ~ 27.3). */
function erfcPositiveTail(y: number): number {
  if (y === Infinity) return 0
  return expMinusSquare(y) * erfcxPositiveTail(y)
}

/** The complementary error function erfc(x) = 1 - erf(x), accurate to a few ulps including the far tail. */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN
  const y = Math.abs(x)
  if (y <= ERF_THRESHOLD) return 1 - erfNearZero(x)
  const tail = erfcPositiveTail(y)
  return x < 0 ? 2 - tail : tail
}

/** The error function erf(x). */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN
  const y = Math.abs(x)
  if (y <= ERF_THRESHOLD) return erfNearZero(x)
  const r = 0.5 - erfcPositiveTail(y) + 0.5
  return x < 0 ? -r : r
}

/**
 * log(erfc(x)) for any x, accurate where erfc(x) itself under- or overflows: for x > 0 it is log(erfcx(x)) - x^2,
 * which stays finite at any argument. Plays the role of Opacus' log(2) + scipy.special.log_ndtr(-x sqrt 2).
 */
export function logErfc(x: number): number {
  if (Number.isNaN(x)) return NaN
  if (x === Infinity) return -Infinity
  if (x > ERF_THRESHOLD) return Math.log(erfcxPositiveTail(x)) - x * x
  if (x >= -ERF_THRESHOLD) return Math.log1p(-erfNearZero(x))
  return Math.log(2 - erfcPositiveTail(-x))
}

// ---------------------------------------------------------------------------------------------------------------
// log-gamma: Lanczos approximation (g = 7, 9 terms) for x >= 1/2, reflection formula below that.
// ---------------------------------------------------------------------------------------------------------------

const LANCZOS_G = 7
const LANCZOS_COEFFICIENTS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
] as const
const HALF_LOG_TWO_PI = 0.91893853320467274178

function logGammaLanczos(x: number): number {
  const z = x - 1
  let series = LANCZOS_COEFFICIENTS[0]
  for (let i = 1; i < LANCZOS_COEFFICIENTS.length; i++) series += LANCZOS_COEFFICIENTS[i] / (z + i)
  const t = z + LANCZOS_G + 0.5
  return HALF_LOG_TWO_PI + (z + 0.5) * Math.log(t) - t + Math.log(series)
}

/** Stirling's series with four correction terms: more accurate than Lanczos once x is large. */
function logGammaStirling(x: number): number {
  const inv = 1 / x
  const inv2 = inv * inv
  const correction = inv * (1 / 12 - inv2 * (1 / 360 - inv2 * (1 / 1260 - inv2 * (1 / 1680))))
  return (x - 0.5) * Math.log(x) - x + HALF_LOG_TWO_PI + correction
}

/** Where Stirling's series with four terms is below double-precision rounding (error term ~ 1/(1188 x^9)). */
const STIRLING_THRESHOLD = 15

/** sin(pi x) with the argument reduced exactly, so it is accurate near the integers (where the poles of gamma are). */
export function sinPi(x: number): number {
  let sign = x < 0 ? -1 : 1
  let r = Math.abs(x) % 2
  if (r > 1) {
    r -= 1
    sign = -sign
  }
  if (r > 0.5) r = 1 - r
  return sign * Math.sin(Math.PI * r)
}

/** log|Gamma(x)| for real x; +Infinity at the poles 0, -1, -2, ... */
export function logAbsGamma(x: number): number {
  if (Number.isNaN(x)) return NaN
  if (x === Infinity) return Infinity
  if (x >= STIRLING_THRESHOLD) return logGammaStirling(x)
  if (x >= 0.5) return logGammaLanczos(x)
  if (Number.isInteger(x)) return Infinity
  // Gamma(x) Gamma(1 - x) = pi / sin(pi x)
  return Math.log(Math.PI) - Math.log(Math.abs(sinPi(x))) - logAbsGamma(1 - x)
}

/** The sign of Gamma(x): +1 for x > 0, alternating between the poles for x < 0; 0 at a pole or NaN. */
export function gammaSign(x: number): -1 | 0 | 1 {
  if (Number.isNaN(x)) return 0
  if (x > 0) return 1
  if (Number.isInteger(x)) return 0
  return Math.floor(x) % 2 === 0 ? 1 : -1
}

/** log Gamma(x) for x > 0 (what scipy calls gammaln / C calls lgamma). */
export function logGamma(x: number): number {
  return logAbsGamma(x)
}

export interface LogAbsBinomial {
  /** log |C(n, k)|, -Infinity when the coefficient is 0 */
  logAbs: number
  sign: -1 | 0 | 1
}

/**
 * The generalised binomial coefficient C(n, k) = Gamma(n+1) / (Gamma(k+1) Gamma(n-k+1)) for real n > -1 and
 * integer k >= 0, as log-magnitude and sign. For fractional n and k > n it alternates in sign.
 */
export function logAbsBinomial(n: number, k: number): LogAbsBinomial {
  if (Number.isInteger(n) && k > n) return { logAbs: -Infinity, sign: 0 }
  const rest = n - k + 1
  return {
    logAbs: logAbsGamma(n + 1) - logAbsGamma(k + 1) - logAbsGamma(rest),
    sign: gammaSign(rest),
  }
}
