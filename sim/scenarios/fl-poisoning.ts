import type { ScenarioSpec } from './scenario-spec.ts'

/**
 * TODO-by-integrator: federated learning (node/learning/, NSL-KDD eval in bench/fl/) is not connected yet.
 * The network, hostile members and report plumbing run; `sim/learning-hook.ts` returns no rounds until it is
 * wired to the training loop (honest members train on their shard, `poisonedShare` of members send poisoned
 * updates, each round reports the global model's accuracy and the privacy budget epsilon spent so far).
 */
export const flPoisoning: ScenarioSpec = {
  name: 'fl-poisoning',
  description:
    'TODO-by-integrator: hostile members poison federated-learning updates; accuracy and epsilon per round.',
  defaults: { nodes: 10, durationSeconds: 30, hostileFraction: 0.3 },
  traffic: [{ kind: 'benign', usersPerNode: 2, pageViewsPerMinute: 4, sshShare: 0.5, typoRate: 0.2 }],
  learning: { rounds: 10, poisonedShare: 0.3 },
  assertions: [
    {
      metric: 'learning.finalAccuracy',
      op: '>=',
      value: 0.9,
      because: 'robust aggregation keeps the shared model accurate despite poisoned updates',
      requires: ['learning'],
    },
  ],
}
