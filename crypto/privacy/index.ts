export {
  DEFAULT_ORDERS,
  DEFAULT_NOISE_TOLERANCE,
  MAX_NOISE_MULTIPLIER,
  composeRdp,
  computeEpsilon,
  epsilonForHistory,
  noiseMultiplierForBudget,
} from './rdp-accountant.ts'
export type {
  AccountantOptions,
  ComputeEpsilonInput,
  NoiseForBudgetInput,
  PrivacySpent,
  SampledGaussianSteps,
} from './rdp-accountant.ts'
export { DEFAULT_RDP_CONVERSION, RDP_CONVERSIONS, epsilonFromRdp } from './rdp-to-dp.ts'
export type { RdpConversion, RdpEpsilon } from './rdp-to-dp.ts'
export { rdpSampledGaussian } from './rdp-sampled-gaussian.ts'
export {
  InvalidPrivacyParameterError,
  NumericalDomainError,
  PrivacyBudgetUnreachableError,
} from './privacy-errors.ts'
