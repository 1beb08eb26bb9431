import type { ScenarioSpec } from './scenario-spec.ts'

/**
 * Poisoned federated learning. Every member trains a 122-64-32-1 MLP with DP-SGD on its non-IID share of NSL-KDD
 * (split by attack family as bench/fl does); the hostile fifth send their delta sign-flipped and scaled by 10.
 * The network runs the coordinate-wise median (with the adaptive norm bound, the daemon's defaults); a second,
 * identical network runs the plain mean on the same data and attack. The harness scores every round's model on
 * KDDTest+ and reads epsilon from the nodes' status. See sim/learning/.
 */
export const flPoisoning: ScenarioSpec = {
  name: 'fl-poisoning',
  description:
    'hostile members send sign-flipped x10 federated updates on NSL-KDD; median vs plain mean, accuracy and epsilon per round',
  // the traffic phase is only the network coming up: the rounds run after it
  defaults: { nodes: 10, durationSeconds: 3, hostileFraction: 0.2 },
  traffic: [],
  learning: {
    rounds: 5,
    roundMs: 5_000,
    rule: 'median',
    baselineRule: 'fedavg',
    poisonFactor: -10,
    examplesPerMember: 2_000,
    epsilonBudget: 10,
    gate: { f1Margin: 0.1, lossMargin: 0.3 },
  },
  assertions: [
    {
      metric: 'learning.agreement',
      op: '==',
      value: 1,
      because: 'every honest member aggregates the same model every round, without a coordinator',
      requires: ['learning'],
    },
    {
      metric: 'learning.epsilonGrowth',
      op: '>',
      value: 0,
      because: 'every contributed round costs privacy, and the ledger counts it',
      requires: ['learning'],
    },
    {
      metric: 'learning.epsilonBudgetShare',
      op: '<=',
      value: 1,
      because: 'no member spends more than its privacy budget',
      requires: ['learning'],
    },
    {
      metric: 'learning.poisoningContained',
      op: '==',
      value: 1,
      because:
        'under poisoning the median stays well above the plain mean, or the gates refuse the mean-aggregated model',
      requires: ['learning'],
    },
    {
      metric: 'learning.finalAccuracy',
      op: '>=',
      value: 0.65,
      because: 'the median keeps the shared model useful on KDDTest+ despite the poisoned updates',
      requires: ['learning'],
    },
  ],
}
