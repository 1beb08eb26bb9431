import type { ShieldwallConfig } from '../../../config/index.ts'
import { DECISION_THRESHOLD, DETECTOR_WEIGHTS } from '../../detect/ensemble.ts'
import type { TensorflowBackend } from '../backend.ts'
import { provisionalCap } from './model-detector.ts'
import type { FederationInit } from './federation-service.ts'

export type LearningConfig = ShieldwallConfig['learning']

const BACKENDS: Record<LearningConfig['backend'], TensorflowBackend[]> = {
  auto: ['tensorflow', 'wasm', 'cpu'],
  tensorflow: ['tensorflow'],
  wasm: ['wasm'],
  cpu: ['cpu'],
}

/** The `learning:` config section as the federation service's init. */
/**
 * `decisionThreshold` is the ensemble's (`detect.threshold`): the provisional cap is lowered with it so that a
 * model not validated here can never ban on its own.
 */
export function federationInitFromConfig(
  c: LearningConfig,
  maxClockSkewMs?: number,
  decisionThreshold: number = DECISION_THRESHOLD,
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
    maxFlipShare: c.gate.maxFlipShare,
    maxMeanShift: c.gate.maxMeanShift,
    minShiftWindows: c.gate.minShiftWindows,
    syncMaxPeers: c.sync.maxPeers,
    syncTrustedThreshold: c.sync.trustedThreshold,
    syncUntrustedCap: c.sync.untrustedCap,
    syncMinSupport: c.sync.minSupport,
    perClass: c.data.perClass,
    validationFraction: c.data.validationFraction,
    benignSampleRate: c.data.benignSampleRate,
    labelDelayMs: c.data.labelDelaySeconds * 1000,
    detectorThreshold: c.detector.threshold,
    detectorMinEvents: c.detector.minEvents,
    provisionalScoreCap: provisionalCap(
      c.detector.provisionalScoreCap,
      decisionThreshold,
      DETECTOR_WEIGHTS.model ?? 0.5,
    ),
    maxMessageBytes: c.maxMessageBytes,
    maxClockSkewMs,
    backends: BACKENDS[c.backend],
  }
}
