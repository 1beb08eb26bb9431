import type { AggregationRule } from '../../node/learning/aggregation/aggregate.ts'

/**
 * A federated-learning scenario: every member trains on its non-IID share of NSL-KDD (split by attack family as
 * bench/fl does), the hostile members send their honest delta times `poisonFactor`, and after every round the
 * harness scores the federation's model on KDDTest+. The network runs `rule`; `baselineRule`, when set, runs the
 * same rounds on a second, identical network so the report can compare the two.
 */
export interface LearningSpec {
  rounds: number
  roundMs: number
  /** the aggregation rule the scenario's network runs (with the adaptive norm bound, as the daemon defaults) */
  rule: AggregationRule
  /** the comparison run: this rule on the plain updates (no norm bound); omit to skip it */
  baselineRule?: AggregationRule
  /** what a hostile member sends: its DP-trained delta times this */
  poisonFactor: number
  /** training records per member, drawn (seeded) from its share of KDDTrain+_20Percent */
  examplesPerMember: number
  /** KDDTest+ records scored after every round, drawn (seeded); omit for all 22,544 */
  testExamples?: number
  epsilonBudget: number
  /** the nodes' evaluation gate: largest F1 drop and log-loss rise they accept from one round to the next */
  gate: { f1Margin: number; lossMargin: number }
  /** NSL-KDD directory; default ../shared/data/nsl-kdd beside the repository */
  dataDir?: string
}

/** One round of one run, as the report shows it. */
export interface LearningRound {
  /** 1 for the first round with data, in each run */
  round: number
  rule: AggregationRule
  /** of the federation's model after the round, on KDDTest+ (evaluated by the harness, not the nodes) */
  accuracy: number
  f1: number
  fpr: number
  rocAuc: number
  /** the largest epsilon any honest member has spent so far (its node's status) */
  epsilon: number
  /** every honest member aggregated the same model */
  agreed: boolean
  /** the model most honest members aggregated (the federation's chain) */
  modelHash: string
  /** honest members whose gate adopted that model, of `honest` */
  adopted: number
  honest: number
  /** updates aggregated (the honest majority's view) */
  participants: number
  /** why honest gates turned the model down: `node-03: F1 dropped by ...` */
  rejections: string[]
}

export interface LearningSummary {
  rule: AggregationRule
  baselineRule: AggregationRule | null
  rounds: number
  finalAccuracy: number | null
  baselineFinalAccuracy: number | null
  /** final accuracy of `rule` minus the baseline's */
  accuracyGap: number | null
  /** share of the baseline's (honest member, round) pairs whose gate adopted the baseline's model */
  baselineAdoptedShare: number | null
  /** 1 when the robust model stays ahead by 0.1 or the honest gates turned the baseline's model down */
  poisoningContained: number | null
  /** share of rounds (both runs) in which every honest member aggregated the same model */
  agreement: number | null
  /** share of the robust run's rounds in which every honest member adopted that model */
  adoptedAgreement: number | null
  /** epsilon after the last round minus after the first (> 0: each round costs privacy) */
  epsilonGrowth: number | null
  maxEpsilon: number | null
  epsilonBudget: number
  /** max epsilon / budget (<= 1: within budget) */
  epsilonBudgetShare: number | null
  poisoners: string[]
  examplesPerMember: number[]
  testExamples: number
  note?: string
}

export interface LearningOutcome {
  rounds: LearningRound[]
  summary: LearningSummary
}

/** The nodes' `learning` config section for a scenario run with `rule`. */
export function learningNodeConfig(spec: LearningSpec, rule: AggregationRule, plain = false) {
  return {
    roundMs: spec.roundMs,
    trainFraction: 0.1,
    closeFraction: 0.8,
    aggregation: { rule, normBound: plain ? 'none' : 'median' },
    model: { features: 'nsl-kdd', hidden: [64, 32] },
    // bench/fl's DP settings: momentum SGD, one local epoch a round
    training: { epochs: 1, batchSize: 64, learningRate: 0.1, momentum: 0.9, minExamples: 64 },
    privacy: { epsilonBudget: spec.epsilonBudget },
    gate: spec.gate,
    data: { perClass: Math.max(10, spec.examplesPerMember) },
    // the model reads NSL-KDD records, not the nodes' windows
    detector: { enabled: false },
  }
}
