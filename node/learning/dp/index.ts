export {
  InvalidTrainingConfigError,
  TrainingDivergedError,
  dpSgdEpsilon,
  dpSgdGradient,
  meanGradient,
  poissonSample,
} from './dp-sgd.ts'
export type { BatchGradientResult, DpGradientInit } from './dp-sgd.ts'
export { secureGaussian, seededGaussian } from './gaussian-noise.ts'
export type { GaussianSource } from './gaussian-noise.ts'
export { DEFAULT_LOCAL_TRAINING_INIT, trainLocal } from './local-training.ts'
export type {
  LocalPrivacyReport,
  LocalTrainingInit,
  LocalTrainingResult,
  PrivacyInit,
  TrainingData,
} from './local-training.ts'
export { adam, sgd } from './optimizers.ts'
export type { Optimizer } from './optimizers.ts'
