/**
 * How long to block, growing for repeat offenders the way fail2ban's `bantime.increment` does: each new
 * offence multiplies the scenario's base ban by `factor`, up to `maxSeconds`.
 */
export interface BanGrowth {
  factor: number
  maxSeconds: number
}

export const DEFAULT_BAN_GROWTH: BanGrowth = { factor: 2, maxSeconds: 7 * 24 * 3600 }

/** `offence` counts from 1 (first offence: the base ban). */
export function banDuration(
  baseSeconds: number,
  offence: number,
  growth: BanGrowth = DEFAULT_BAN_GROWTH,
): number {
  const n = Math.max(1, Math.floor(offence))
  return Math.min(growth.maxSeconds, Math.round(baseSeconds * growth.factor ** (n - 1)))
}
