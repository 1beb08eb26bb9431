import type { ScenarioSpec } from './scenario-spec.ts'

export const churn: ScenarioSpec = {
  name: 'churn',
  description:
    'A third of the (non-bootstrap) honest members leave and rejoin with the same identity and data; attacks happen ' +
    'while they are away and after they are back.',
  defaults: { nodes: 12, durationSeconds: 60 },
  traffic: [
    { kind: 'benign', usersPerNode: 2, pageViewsPerMinute: 4, sshShare: 0.5, typoRate: 0.2 },
    {
      kind: 'ssh-bruteforce',
      attackers: 3,
      targetsPerAttacker: 2,
      attemptsPerTarget: 8,
      intervalMs: 200,
      window: [0.3, 0.45],
      phase: 'while-down',
    },
    {
      kind: 'ssh-bruteforce',
      attackers: 3,
      targetsPerAttacker: 2,
      attemptsPerTarget: 8,
      intervalMs: 200,
      window: [0.72, 0.85],
      phase: 'after-rejoin',
    },
  ],
  events: [{ kind: 'churn', at: 0.2, share: 0.34, downFraction: 0.4 }],
  assertions: [
    {
      metric: 'churn.rejoinedIsolated',
      op: '==',
      value: 0,
      because: 'a rejoining node finds the network again',
    },
    {
      metric: 'churn.afterRejoinMissed',
      op: '==',
      value: 0,
      because: 'attacks after the rejoin reach rejoined nodes like any other',
    },
    {
      metric: 'missedDetectedBlocks',
      op: '==',
      value: 0,
      because: 'nodes that stayed online get every block',
    },
    {
      metric: 'churn.lateJoinerCoverage',
      op: '>=',
      value: 1,
      because: 'late joiners catch up on blocks decided while they were away',
    },
  ],
}
