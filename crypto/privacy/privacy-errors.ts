/** A privacy parameter (sampling rate, noise multiplier, delta, order, ...) is outside the range the analysis holds for. */
export class InvalidPrivacyParameterError extends Error {
  override name = 'InvalidPrivacyParameterError'
}

/** No noise multiplier up to the search limit reaches the requested (epsilon, delta) budget. */
export class PrivacyBudgetUnreachableError extends Error {
  override name = 'PrivacyBudgetUnreachableError'
}

/**
 * A log-space computation left its domain (a negative difference, a series that never converged). The inputs were
 * valid, so this means the numerics failed and no epsilon should be reported from it.
 */
export class NumericalDomainError extends Error {
  override name = 'NumericalDomainError'
}
