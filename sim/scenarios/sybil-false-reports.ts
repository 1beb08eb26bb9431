import type { ScenarioSpec } from './scenario-spec.ts'

export const sybilFalseReports: ScenarioSpec = {
  name: 'sybil-false-reports',
  description:
    'A coordinated crowd of hostile members (30% by default) reports real users of honest nodes (their staff, whom ' +
    'those operators allowlist) as attackers, and one of them floods alerts; honest nodes keep detecting and ' +
    'sharing real attacks.',
  defaults: { nodes: 20, durationSeconds: 60, hostileFraction: 0.3 },
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
  ],
  hostile: [
    { kind: 'false-reports', victims: 4, window: [0.15, 0.6] },
    { kind: 'alert-flood', nodes: 1, alertsPerNode: 150, seconds: 4, at: 0.45 },
  ],
  assertions: [
    {
      metric: 'falseBlocks',
      op: '==',
      value: 0,
      because: 'reports from untrusted peers alone never block a real user',
    },
    {
      metric: 'missedDetectedBlocks',
      op: '==',
      value: 0,
      because: 'honest detections still reach every honest node during the Sybil attack and the flood',
    },
    {
      metric: 'delivery.ratio',
      op: '>=',
      value: 0.95,
      because: 'the alert flood does not crowd out honest alerts',
    },
    {
      metric: 'trust.final.gap',
      op: '>',
      value: 0,
      because: 'honest nodes end up trusting honest peers more than the hostile crowd',
    },
    {
      metric: 'trust.hostileDrop',
      op: '>',
      value: 0,
      because: "reporting an operator's own allowlisted users as attackers costs the crowd trust",
    },
  ],
}
