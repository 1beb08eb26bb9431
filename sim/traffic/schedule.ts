import type { AddressPool } from '../addresses.ts'
import type { AttackerTruth } from '../metrics/measurements.ts'
import type { Prng } from '../random.ts'

/** One log line due at `at` ms after the scenario start, rendered with the real time when it is written. */
export interface ScheduledLine {
  at: number
  member: number
  file: 'auth' | 'access'
  render: (now: number) => string
}

export interface TrafficContext {
  rand: Prng
  durationMs: number
  /** honest members that run a guarded service */
  honest: number[]
  /** which side of a partition each member will be on, when the scenario partitions */
  groupOf?: (member: number) => number | undefined
  /** whether a member is up for the whole [from, to] ms (churn); attacks meant for detection pick members up */
  upDuring?: (member: number, from: number, to: number) => boolean
  attackers: AddressPool
  benign: AddressPool
  /** ground truth, filled in by the generators */
  truth: {
    attackers: AttackerTruth[]
    benign: Set<string>
    /** flood sources: load, neither expected nor forbidden to be blocked */
    load: Set<string>
    /** per honest member: its own staff's addresses (SSH users), which its operator allowlists */
    staff: Map<number, string[]>
  }
  /** member name, used as the syslog host */
  hostOf: (member: number) => string
}

export function byTime(a: ScheduledLine, b: ScheduledLine): number {
  return a.at - b.at
}
