import type { Capability } from '../adapters/capabilities.ts'
import type { LearningSpec } from '../learning/learning-spec.ts'

/**
 * A scenario is data: network shape, traffic, hostile behaviour, network events and the assertions its report
 * must satisfy. Times are fractions of the run's duration so one scenario scales from a 10 s test to a 10 min
 * run; counts that grow with the network are per node or fractions.
 */
export interface ScenarioSpec {
  name: string
  description: string
  defaults: {
    nodes: number
    durationSeconds: number
    /** fraction of non-bootstrap nodes that are hostile */
    hostileFraction?: number
    bootstrapPeers?: number
    /** how honest members come to trust each other (default community: operators pin each other) */
    trust?: 'community' | 'organic'
  }
  traffic: TrafficSpec[]
  hostile?: HostileSpec[]
  events?: NetworkEventSpec[]
  /** federated-learning scenarios: see fl-poisoning.ts */
  learning?: LearningSpec
  assertions: Assertion[]
}

/** [from, to] as fractions of the duration */
export type Window = readonly [number, number]

export type TrafficSpec =
  | {
      kind: 'benign'
      /** distinct benign users per honest node; each also visits a couple of other nodes */
      usersPerNode: number
      pageViewsPerMinute: number
      /** share of users who also log in over SSH (and sometimes mistype a password once) */
      sshShare: number
      typoRate: number
    }
  | {
      kind: 'ssh-bruteforce'
      attackers: number
      /** nodes each attacker hits hard enough for local detection */
      targetsPerAttacker: number
      attemptsPerTarget: number
      intervalMs: number
      window: Window
      /** restrict targets to one side of a partition (group index) */
      group?: number
      phase?: string
    }
  | {
      kind: 'http-scan'
      attackers: number
      targetsPerAttacker: number
      pathsPerTarget: number
      intervalMs: number
      window: Window
      group?: number
      phase?: string
    }
  | {
      kind: 'distributed-bruteforce'
      attackers: number
      /**
       * failed logins per node, in one burst of `burstMs`: at least half a bucket of ssh-bf (a sighting) and
       * below its ban threshold, e.g. 3 for a capacity of 5
       */
      touchesPerNode: number
      burstMs: number
      /** share of honest nodes each attacker touches */
      nodeShare: number
      window: Window
    }
  | {
      kind: 'flood'
      /** honest nodes flooded */
      targets: number
      /** distinct source addresses (load, not ground-truth attackers) */
      sources: number
      linesPerSecond: number
      seconds: number
      at: number
    }

export type HostileSpec =
  | {
      /** every hostile node reports the same benign users as attackers (a coordinated Sybil crowd) */
      kind: 'false-reports'
      victims: number
      window: Window
    }
  | {
      /** hostile nodes publish alerts as fast as they can */
      kind: 'alert-flood'
      nodes: number
      alertsPerNode: number
      seconds: number
      at: number
    }

export type NetworkEventSpec =
  | {
      /** a share of honest, non-bootstrap nodes stop at `at` and start again after `downSeconds` */
      kind: 'churn'
      at: number
      share: number
      downFraction: number
    }
  | {
      /** members split into two groups (bootstrap peers spread over both) at `at`, healed at `healAt` */
      kind: 'partition'
      at: number
      healAt: number
    }

export type Comparison = '<' | '<=' | '==' | '>=' | '>'

export interface Assertion {
  /** dotted path into the JSON report, e.g. `falseBlocks`, `propagation.p99Ms`, `churn.postRejoinMissed` */
  metric: string
  op: Comparison
  /** a number, or `nodes` / `honestNodes` scaled by `times` */
  value: number | { of: 'nodes' | 'honestNodes'; times: number }
  /** why this must hold, in words */
  because: string
  /** skipped (not failed) while a feature it depends on is not in the tree */
  requires?: Capability[]
}
