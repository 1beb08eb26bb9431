import type { ScenarioSpec } from './scenario-spec.ts'

export const distributedBruteforce: ScenarioSpec = {
  name: 'distributed-bruteforce',
  description:
    'Brute forcers and scanners hit a few nodes each, hard enough for local detection; others try three passwords ' +
    "in a burst on every node (half of ssh-bf's bucket: a sighting, below its ban threshold); a short log flood " +
    'loads one node. Benign users throughout.',
  defaults: { nodes: 20, durationSeconds: 60 },
  traffic: [
    { kind: 'benign', usersPerNode: 3, pageViewsPerMinute: 4, sshShare: 0.5, typoRate: 0.2 },
    {
      kind: 'ssh-bruteforce',
      attackers: 6,
      targetsPerAttacker: 3,
      attemptsPerTarget: 8,
      intervalMs: 200,
      window: [0.05, 0.6],
    },
    {
      kind: 'http-scan',
      attackers: 3,
      targetsPerAttacker: 2,
      pathsPerTarget: 14,
      intervalMs: 120,
      window: [0.05, 0.6],
    },
    {
      kind: 'distributed-bruteforce',
      attackers: 3,
      touchesPerNode: 3,
      burstMs: 2000,
      nodeShare: 1,
      window: [0.05, 0.7],
    },
    { kind: 'flood', targets: 1, sources: 10, linesPerSecond: 100, seconds: 3, at: 0.4 },
  ],
  assertions: [
    {
      metric: 'missedDetectedBlocks',
      op: '==',
      value: 0,
      because: 'an attack one honest node detects is blocked on every honest node',
    },
    { metric: 'falseBlocks', op: '==', value: 0, because: 'benign users are never blocked' },
    { metric: 'delivery.ratio', op: '>=', value: 0.99, because: 'gossip reaches every online honest node' },
    {
      metric: 'propagation.p99Ms',
      op: '<=',
      value: 1000,
      because:
        'once enough nodes detected an attacker for a community block, every honest node blocks it within a second',
    },
    {
      metric: 'communityOnlyBlocks',
      op: '>=',
      value: 1,
      because:
        'the federation blocks a distributed attack no single node could detect (trusted sightings combine)',
      requires: ['sightings'],
    },
  ],
}
