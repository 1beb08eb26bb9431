import type { ScenarioSpec } from './scenario-spec.ts'

export const partition: ScenarioSpec = {
  name: 'partition',
  description:
    'The network splits in two (connections closed, dials across refused), one side is attacked, the split heals, ' +
    'then the other side is attacked.',
  defaults: { nodes: 10, durationSeconds: 60 },
  traffic: [
    { kind: 'benign', usersPerNode: 2, pageViewsPerMinute: 4, sshShare: 0.5, typoRate: 0.2 },
    {
      kind: 'ssh-bruteforce',
      attackers: 3,
      targetsPerAttacker: 2,
      attemptsPerTarget: 8,
      intervalMs: 200,
      window: [0.3, 0.45],
      group: 1,
      phase: 'during-partition',
    },
    {
      kind: 'ssh-bruteforce',
      attackers: 3,
      targetsPerAttacker: 2,
      attemptsPerTarget: 8,
      intervalMs: 200,
      window: [0.72, 0.85],
      group: 0,
      phase: 'after-heal',
    },
  ],
  events: [{ kind: 'partition', at: 0.2, healAt: 0.55 }],
  assertions: [
    { metric: 'partition.leaks', op: '==', value: 0, because: 'nothing crosses a real partition' },
    {
      metric: 'partition.withinSideMissed',
      op: '==',
      value: 0,
      because: 'each side keeps defending itself while split',
    },
    {
      metric: 'partition.afterHealMissed',
      op: '==',
      value: 0,
      because: 'after healing, new blocks reach both sides',
    },
    {
      metric: 'partition.catchUpMissed',
      op: '==',
      value: 0,
      because: 'blocks decided on one side during the split reach the other side after it heals',
    },
  ],
}
