import { churn } from './churn.ts'
import { distributedBruteforce } from './distributed-bruteforce.ts'
import { flPoisoning } from './fl-poisoning.ts'
import { partition } from './partition.ts'
import type { ScenarioSpec } from './scenario-spec.ts'
import { sybilFalseReports } from './sybil-false-reports.ts'

export const SCENARIOS: Record<string, ScenarioSpec> = Object.fromEntries(
  [distributedBruteforce, sybilFalseReports, churn, partition, flPoisoning].map((s) => [s.name, s]),
)

export class UnknownScenarioError extends Error {
  override name = 'UnknownScenarioError'
}

export function scenarioByName(name: string): ScenarioSpec {
  const s = SCENARIOS[name]
  if (s === undefined)
    throw new UnknownScenarioError(
      `unknown scenario "${name}"; expected one of ${Object.keys(SCENARIOS).join(', ')}`,
    )
  return s
}
