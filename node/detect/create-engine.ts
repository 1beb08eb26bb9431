import type { ShieldwallConfig } from '../../config/index.ts'
import type { Detector, Finding } from './detector.ts'
import { DetectionEngine } from './detection-engine.ts'
import { Ensemble } from './ensemble.ts'
import { IsolationForestDetector } from './anomaly/isolation-forest-detector.ts'
import { ALL_SCENARIOS, ScenarioDetector } from './scenarios/scenario-detector.ts'
import { CusumDetector } from './stats/cusum-detector.ts'
import { RateZScoreDetector } from './stats/rate-zscore-detector.ts'

export type DetectConfig = ShieldwallConfig['detect']

/**
 * The detectors an operator gets from `detect:` in config, wired to one ensemble. Live ingest and offline
 * replay both build their engine here, so `shieldwall detect` predicts exactly what the daemon would do.
 */
export function createDetectionEngine(
  config: DetectConfig,
  extra: { detectors?: Detector[]; onFinding?: (f: Finding) => void; onSighting?: (f: Finding) => void } = {},
): DetectionEngine {
  const scenarios = new ScenarioDetector({
    scenarios: config.scenarios,
    maxTrackedIps: config.maxTrackedIps,
    ...(extra.onSighting !== undefined && config.sightings.enabled
      ? { onSighting: extra.onSighting, sightingFraction: config.sightings.fraction }
      : {}),
  })
  const byName = new Map(ALL_SCENARIOS.map((s) => [s.name, s]))
  const detectors: Detector[] = [scenarios]
  if (config.stats.enabled) detectors.push(new RateZScoreDetector(), new CusumDetector())
  if (config.anomaly.enabled)
    detectors.push(new IsolationForestDetector({ threshold: config.anomaly.threshold }))
  // Everything built from config alone can be rebuilt in a replay worker: two groups, the scenarios and the
  // window detectors, about the same work each, that a replay runs on one thread or two (see replay.ts).
  const windows = detectors.map((_, i) => i).filter((i) => i > 0)
  const groups = windows.length > 0 ? [[0], windows] : [[0]]
  detectors.push(...(extra.detectors ?? []))
  const ensemble = new Ensemble({
    threshold: config.threshold,
    maxTrackedIps: config.maxTrackedIps,
    growth: { factor: config.banGrowthFactor, maxSeconds: config.maxBanSeconds },
    scenarioBan: (name) => {
      const spec = byName.get(name)
      const override = config.scenarios[name]?.banSeconds
      return { banSeconds: override ?? spec?.banSeconds ?? 4 * 3600, severity: spec?.severity ?? 'medium' }
    },
  })
  return new DetectionEngine(detectors, ensemble, extra.onFinding, { config, groups })
}
