import type { Capability } from '../adapters/capabilities.ts'
import type { LearningRound, LearningSummary } from '../learning-hook.ts'
import type { ResourceUsage } from '../metrics/resource-meter.ts'
import type { AttackerOutcome, Percentiles } from '../metrics/measurements.ts'
import type { Assertion, Comparison } from '../scenarios/scenario-spec.ts'

export interface NodeReport {
  name: string
  role: 'honest' | 'hostile'
  peerId: string
  online: boolean
  connections: number
  messagesSent: number
  bytesSent: number
  rpcsSent: number
  messagesReceived: number
  bytesReceived: number
  duplicatesReceived: number
  /** addresses blocked here (origin local or community) */
  blocks: number
  /** of which decided by the community rule */
  communityBlocks: number
  /** addresses this member's detectors sighted (half a bucket) */
  sightings: number
  localDetections: number
  alertsAccepted: number
  alertsRejected: number
  alertsIgnored: number
  /** its own alerts it stored but did not gossip: past the per-sender rate every peer holds it to */
  alertsHeld: number
}

export interface AssertionResult {
  metric: string
  op: Comparison
  expected: number
  actual: number | null
  status: 'pass' | 'fail' | 'skipped'
  because: string
  requires?: Capability[]
}

export interface TrustSample {
  /** ms since the scenario start */
  t: number
  /** mean reputation trust of honest observers in honest / hostile peers */
  honest: number | null
  hostile: number | null
  /** mean gossipsub score of the same pairs (connected peers only) */
  honestGossip?: number | null
  hostileGossip?: number | null
}

/** The JSON report of one run (also what the HTML report is drawn from). */
export interface SimReport {
  scenario: string
  description: string
  nodes: number
  hostileNodes: number
  seed: number
  transport: 'memory' | 'tcp'
  /** threads that ran nodes; with more than one, members of different threads met over TCP loopback */
  workers: number
  durationSeconds: number
  startedAt: string
  /** which implementation each measurement read: the real feature or the simulator's marked fallback */
  sources: { blocks: string; trust: string }
  capabilities: Capability[]
  propagation: Percentiles
  delivery: { ratio: number | null; expected: number; delivered: number }
  /** honest alerts: publication to arrival on each honest node */
  deliveryLatency: Percentiles
  /** duplicates / all messages received, over all nodes */
  duplicateRatio: number | null
  falseBlocks: number
  falseBlockPairs: number
  missedBlocks: number
  missedDetectedBlocks: number
  communityOnlyBlocks: number
  /** attackers detected by fewer honest nodes than a community block needs (minTrustedReporters) */
  belowQuorum: number
  undetectedAttackers: number
  attackers: number
  benignAddresses: number
  bytesPerNode: { mean: number; p50: number; max: number }
  messagesPerNode: { mean: number; max: number }
  network: {
    meanConnections: number
    minConnections: number
    maxConnections: number
    startupMs: number
    /** pinned trust: the warm-up attacker that took every node's alert path once before the measured run */
    alertWarmUp?: import('../warm-up.ts').AlertWarmUpOutcome
  }
  resources: ResourceUsage
  churn?: {
    rejoined: number
    rejoinedIsolated: number
    lateJoinerCoverage: number | null
    afterRejoinMissed: number
  }
  partition?: {
    groups: number[][]
    leaks: number
    withinSideMissed: number
    afterHealMissed: number
    catchUpMissed: number
  }
  trust: {
    model: 'community' | 'organic'
    source: string
    /** organic model: the warm-up that earned trust before the measured run */
    warmUp?: import('../warm-up.ts').WarmUpOutcome
    initial: { honestMean: number | null; hostileMean: number | null }
    /** initial minus final hostile mean trust: positive when honest nodes came to trust the crowd less */
    hostileDrop: number | null
    gossipScore: { honestMean: number | null; hostileMean: number | null }
    final: { honestMean: number | null; hostileMean: number | null; gap: number | null }
  }
  /** federated-learning scenarios: the run's outcome, and every round of every rule (sim/learning/) */
  learning?: LearningSummary
  rounds?: ReportRound[]
  perNode: NodeReport[]
  attackerOutcomes: AttackerOutcome[]
  timelines: {
    /** every (honest node, detected attacker) delay from first detection to block there, ms, sorted */
    propagationCdfMs: number[]
    /** per honest node: ms since the start of each block it added */
    blocks: { name: string; times: number[] }[]
    trust: TrustSample[]
    events: { t: number; label: string }[]
  }
  assertions: AssertionResult[]
  passed: boolean
}

/** a federated round as charted: round, accuracy and epsilon at least; the rule when runs are compared */
export type ReportRound = Pick<LearningRound, 'round' | 'accuracy' | 'epsilon'> & Partial<LearningRound>

/** Reads a dotted path (`propagation.p99Ms`) out of the report; null when absent or not a number. */
export function metricValue(report: object, path: string): number | null {
  let v: unknown = report
  for (const key of path.split('.')) {
    if (v === null || typeof v !== 'object') return null
    v = (v as Record<string, unknown>)[key]
  }
  return typeof v === 'number' && Number.isFinite(v) ? v : null
}

export function compare(actual: number, op: Comparison, expected: number): boolean {
  switch (op) {
    case '<':
      return actual < expected
    case '<=':
      return actual <= expected
    case '==':
      return actual === expected
    case '>=':
      return actual >= expected
    case '>':
      return actual > expected
  }
}

export function evaluateAssertions(
  assertions: Assertion[],
  report: object,
  ctx: { nodes: number; honestNodes: number; capabilities: Set<Capability> },
): AssertionResult[] {
  return assertions.map((a) => {
    const expected =
      typeof a.value === 'number'
        ? a.value
        : (a.value.of === 'nodes' ? ctx.nodes : ctx.honestNodes) * a.value.times
    const actual = metricValue(report, a.metric)
    const missing = (a.requires ?? []).filter((c) => !ctx.capabilities.has(c))
    const status =
      missing.length > 0 ? 'skipped' : actual !== null && compare(actual, a.op, expected) ? 'pass' : 'fail'
    return {
      metric: a.metric,
      op: a.op,
      expected,
      actual,
      status,
      because: a.because,
      ...(a.requires !== undefined ? { requires: a.requires } : {}),
    }
  })
}
