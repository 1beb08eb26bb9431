import type { ShieldwallConfig } from '../../../config/index.ts'
import type { TensorflowBackend } from '../backend.ts'
import type { FederationInit } from './federation-service.ts'

export type LearningConfig = ShieldwallConfig['learning']

const BACKENDS: Record<LearningConfig['backend'], TensorflowBackend[]> = {
  auto: ['tensorflow', 'wasm', 'cpu'],
  tensorflow: ['tensorflow'],
  wasm: ['wasm'],
  cpu: ['cpu'],
}

/** The `learning:` config section as the federation service's init. */
export function federationInitFromConfig(
  c: LearningConfig,
  maxClockSkewMs?: number,
): Partial<FederationInit> {
  return {
    roundMs: c.roundMs,
    epochMs: c.epochMs,
    trainFraction: c.trainFraction,
    closeFraction: c.closeFraction,
    rule: c.aggregation.rule,
    trimFraction: c.aggregation.trimFraction,
    normBound: c.aggregation.normBound,
    medianNormFactor: c.aggregation.medianNormFactor,
    encoding: c.encoding,
    features: c.model.features,
    hidden: [...c.model.hidden],
    modelSeed: c.model.seed,
    epochs: c.training.epochs,
    batchSize: c.training.batchSize,
    learningRate: c.training.learningRate,
    momentum: c.training.momentum,
    minExamples: c.training.minExamples,
    contributing: c.privacy.contributing,
    epsilonBudget: c.privacy.epsilonBudget,
    delta: c.privacy.delta,
    clipNorm: c.privacy.clipNorm,
    noiseMultiplier: c.privacy.noiseMultiplier,
    f1Margin: c.gate.f1Margin,
    lossMargin: c.gate.lossMargin,
    minValidation: c.gate.minValidation,
    perClass: c.data.perClass,
    validationFraction: c.data.validationFraction,
    benignSampleRate: c.data.benignSampleRate,
    labelDelayMs: c.data.labelDelaySeconds * 1000,
    detectorThreshold: c.detector.threshold,
    detectorMinEvents: c.detector.minEvents,
    maxMessageBytes: c.maxMessageBytes,
    maxClockSkewMs,
    backends: BACKENDS[c.backend],
  }
}
