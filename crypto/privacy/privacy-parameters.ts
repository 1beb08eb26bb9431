/**
 * Boundary checks for accountant inputs. They throw InvalidPrivacyParameterError rather than let a bad value turn
 * into a NaN or a silently wrong epsilon that an operator would read as "privacy spent".
 */
import { InvalidPrivacyParameterError } from './privacy-errors.ts'

function isNumber(x: unknown): x is number {
  return typeof x === 'number' && !Number.isNaN(x)
}

export function assertValidSampleRate(sampleRate: number): void {
  if (!(isNumber(sampleRate) && sampleRate >= 0 && sampleRate <= 1)) {
    throw new InvalidPrivacyParameterError(`sample rate must be in [0, 1], got ${sampleRate}`)
  }
}

export function assertValidNoiseMultiplier(noiseMultiplier: number): void {
  if (!(isNumber(noiseMultiplier) && Number.isFinite(noiseMultiplier) && noiseMultiplier >= 0)) {
    throw new InvalidPrivacyParameterError(
      `noise multiplier must be a finite number >= 0, got ${noiseMultiplier}`,
    )
  }
}

export function assertValidSteps(steps: number): void {
  if (!(Number.isSafeInteger(steps) && steps >= 0)) {
    throw new InvalidPrivacyParameterError(`steps must be a non-negative integer, got ${steps}`)
  }
}

/** delta in the open interval (0, 1): delta = 0 has no finite epsilon under RDP and delta >= 1 promises nothing. */
export function assertValidDelta(delta: number): void {
  if (!(isNumber(delta) && delta > 0 && delta < 1)) {
    throw new InvalidPrivacyParameterError(`delta must be in (0, 1), got ${delta}`)
  }
}

export function assertValidOrders(orders: readonly number[]): void {
  if (!Array.isArray(orders) || orders.length === 0) {
    throw new InvalidPrivacyParameterError('at least one RDP order is required')
  }
  for (const alpha of orders) {
    if (!(isNumber(alpha) && Number.isFinite(alpha) && alpha > 1)) {
      throw new InvalidPrivacyParameterError(`RDP orders must be finite numbers > 1, got ${alpha}`)
    }
  }
}
