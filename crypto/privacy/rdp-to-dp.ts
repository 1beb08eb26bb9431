/**
 * Conversion of an RDP curve (epsilon_RDP at each order alpha) to a single (epsilon, delta)-DP guarantee, taking
 * the best order.
 *
 * - 'classic' (Mironov 2017, Prop. 3): eps = rdp - log(delta) / (alpha - 1).
 * - 'balle2020' (Balle et al. 2020, "Hypothesis testing interpretations and Rényi differential privacy",
 *   Thm. 21; what Opacus' get_privacy_spent uses): eps = rdp - (log(delta) + log(alpha)) / (alpha - 1)
 *   + log((alpha - 1) / alpha). Never worse than classic at any alpha, so it is the default.
 */
import { InvalidPrivacyParameterError } from './privacy-errors.ts'
import { assertValidDelta, assertValidOrders } from './privacy-parameters.ts'

export const RDP_CONVERSIONS = ['classic', 'balle2020'] as const
export type RdpConversion = (typeof RDP_CONVERSIONS)[number]
export const DEFAULT_RDP_CONVERSION: RdpConversion = 'balle2020'

export interface RdpEpsilon {
  /** Infinity when no order gives a finite bound */
  epsilon: number
  /** the order alpha that gave the smallest epsilon; NaN when every order's bound was NaN */
  order: number
}

function epsilonAtOrder(rdp: number, alpha: number, logDelta: number, method: RdpConversion): number {
  if (method === 'classic') return rdp - logDelta / (alpha - 1)
  return rdp - (logDelta + Math.log(alpha)) / (alpha - 1) + Math.log((alpha - 1) / alpha)
}

/**
 * The smallest epsilon over the given orders such that the mechanism is (epsilon, delta)-DP.
 *
 * Mirrors Opacus: NaN entries are skipped (np.nanargmin), the first order wins a tie, and if every entry is NaN
 * the answer is { epsilon: Infinity, order: NaN }. Like Opacus (and unlike TF-Privacy) the result is not clamped at
 * 0: 'balle2020' can go slightly negative for near-zero RDP with an unusually large delta (about > 1/maxOrder).
 */
export function epsilonFromRdp(
  orders: readonly number[],
  rdp: readonly number[],
  delta: number,
  method: RdpConversion = DEFAULT_RDP_CONVERSION,
): RdpEpsilon {
  assertValidOrders(orders)
  if (!Array.isArray(rdp) || rdp.length !== orders.length) {
    throw new InvalidPrivacyParameterError(
      `orders and rdp must have the same length, got ${orders.length} and ${Array.isArray(rdp) ? rdp.length : rdp}`,
    )
  }
  for (const r of rdp) {
    // NaN is let through on purpose: Opacus ignores such orders rather than failing the whole conversion.
    if (typeof r !== 'number' || r < 0) {
      throw new InvalidPrivacyParameterError(`RDP values must be >= 0, got ${r}`)
    }
  }
  assertValidDelta(delta)
  if (!RDP_CONVERSIONS.includes(method)) {
    throw new InvalidPrivacyParameterError(`unknown RDP conversion ${String(method)}`)
  }

  const logDelta = Math.log(delta)
  let best = -1
  let bestEpsilon = NaN
  for (let i = 0; i < orders.length; i++) {
    const eps = epsilonAtOrder(rdp[i], orders[i], logDelta, method)
    if (Number.isNaN(eps)) continue
    if (best === -1 || eps < bestEpsilon) {
      best = i
      bestEpsilon = eps
    }
  }
  if (best === -1) return { epsilon: Infinity, order: NaN }
  return { epsilon: bestEpsilon, order: orders[best] }
}
