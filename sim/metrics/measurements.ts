import type { OnlineSpan, Role } from '../network.ts'

/** Ground truth about one simulated attacker address. */
export interface AttackerTruth {
  ip: string
  /** generator that produced it, e.g. `ssh-bruteforce`, `distributed-bruteforce` */
  kind: string
  /** member indices it attacked */
  targets: number[]
  /** free-form tag from the scenario (e.g. `during-partition`) */
  phase?: string
}

/** What the simulator observed on one member. */
export interface MemberObservation {
  index: number
  role: Role
  spans: OnlineSpan[]
  /** when each address became blocked here */
  blockedAt: (ip: string) => number | undefined
  /** addresses this member's own detectors decided on, with the time */
  localAt: Map<string, number>
  /** addresses this member's detectors sighted (half a bucket, below a ban), with the time */
  sightedAt?: Map<string, number>
}

export interface PublishedAlert {
  id: string
  publisher: number
  publishedAt: number
  /** member index -> when it stored the alert */
  receivedBy: Map<number, number>
}

export interface Percentiles {
  p50Ms: number | null
  p99Ms: number | null
  maxMs: number | null
  count: number
}

export interface AttackerOutcome {
  ip: string
  kind: string
  phase?: string
  firstDetectionAt: number | null
  detectedBy: number
  /** honest members it had to reach (online from first detection to the end) */
  eligible: number
  blockedOn: number
  /**
   * When the network first held enough evidence for a community block: the first local detection, or when
   * `quorum` honest nodes had a voice (a detection or a sighting) if that was later.
   */
  quorumAt: number | null
  /** time from `quorumAt` to the last eligible honest node blocking it */
  propagationMs: number | null
  /** the member that blocked it last (the one that sets propagationMs) */
  lastBlockedBy: number | null
}

export interface Measurements {
  propagation: Percentiles
  /** every (honest node, attacker) delay, ms, sorted: the CDF */
  nodeDelaysMs: number[]
  attackers: AttackerOutcome[]
  falseBlocks: number
  falseBlockPairs: number
  missedBlocks: number
  /** attackers some honest node detected but that did not reach every honest node */
  missedDetectedBlocks: number
  communityOnlyBlocks: number
  belowQuorum: number
  undetectedAttackers: number
  delivery: { ratio: number | null; expected: number; delivered: number }
  /** honest alerts: publication to arrival on each honest node */
  deliveryLatency: Percentiles
}

export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null
  const rank = Math.ceil((p / 100) * sorted.length) - 1
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))] as number
}

export function percentiles(values: number[]): Percentiles {
  const sorted = values.slice().sort((a, b) => a - b)
  return {
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted.at(-1) ?? null,
    count: sorted.length,
  }
}

/** online without a break from `from` to the end of the run */
export function onlineThrough(spans: OnlineSpan[], from: number): boolean {
  const last = spans.at(-1)
  return last !== undefined && last.down === undefined && last.up <= from
}

export function onlineAtEnd(spans: OnlineSpan[]): boolean {
  const last = spans.at(-1)
  return last !== undefined && last.down === undefined
}

/**
 * The run's outcome from ground truth and observations: pure, so it is tested without a network.
 * A block "network-wide" means on every honest member that was online from the first detection to the end;
 * for an attacker nobody detected, every honest member online at the end.
 */
export function measure(input: {
  members: MemberObservation[]
  attackers: AttackerTruth[]
  benign: string[]
  alerts: PublishedAlert[]
  /**
   * Distinct detecting nodes a community block needs (the nodes' minTrustedReporters). An attacker fewer honest
   * nodes detected is by design not blocked network-wide: counted as belowQuorum, not as a missed block.
   */
  quorum?: number
}): Measurements {
  const quorum = input.quorum ?? 1
  const honest = input.members.filter((m) => m.role === 'honest')
  const attackers: AttackerOutcome[] = []
  const nodeDelays: number[] = []
  const propagation: number[] = []
  for (const a of input.attackers) {
    const detections = honest
      .map((m) => m.localAt.get(a.ip))
      .filter((t): t is number => t !== undefined)
      .sort((x, y) => x - y)
    const first = detections[0]
    const detectedBy = detections.length
    const voices = honest
      .map((m) => Math.min(m.localAt.get(a.ip) ?? Infinity, m.sightedAt?.get(a.ip) ?? Infinity))
      .filter((t) => t !== Infinity)
      .sort((x, y) => x - y)
    const quorumAt =
      first === undefined ? undefined : Math.max(first, voices[Math.max(0, quorum - 1)] ?? Infinity)
    const eligible = honest.filter((m) =>
      first === undefined ? onlineAtEnd(m.spans) : onlineThrough(m.spans, first),
    )
    let blockedOn = 0
    let last = 0
    let lastBlockedBy: number | null = null
    for (const m of eligible) {
      const t = m.blockedAt(a.ip)
      if (t === undefined) continue
      blockedOn++
      if (quorumAt !== undefined && quorumAt !== Infinity) {
        const d = Math.max(0, t - quorumAt)
        nodeDelays.push(d)
        if (d >= last) lastBlockedBy = m.index
        last = Math.max(last, d)
      }
    }
    const everywhere = eligible.length > 0 && blockedOn === eligible.length
    const propagationMs = everywhere && quorumAt !== undefined && quorumAt !== Infinity ? last : null
    if (propagationMs !== null) propagation.push(propagationMs)
    attackers.push({
      ip: a.ip,
      kind: a.kind,
      ...(a.phase !== undefined ? { phase: a.phase } : {}),
      firstDetectionAt: first ?? null,
      detectedBy,
      quorumAt: quorumAt === undefined || quorumAt === Infinity ? null : quorumAt,
      eligible: eligible.length,
      blockedOn,
      propagationMs,
      lastBlockedBy,
    })
  }

  let falseBlockPairs = 0
  let falseBlocks = 0
  for (const ip of input.benign) {
    const n = honest.filter((m) => m.blockedAt(ip) !== undefined).length
    falseBlockPairs += n
    if (n > 0) falseBlocks++
  }

  const everywhere = (o: AttackerOutcome) => o.eligible > 0 && o.blockedOn === o.eligible
  let expected = 0
  let delivered = 0
  const latencies: number[] = []
  const byIndex = new Map(input.members.map((m) => [m.index, m]))
  for (const alert of input.alerts) {
    if (byIndex.get(alert.publisher)?.role !== 'honest') continue
    for (const m of honest) {
      if (m.index === alert.publisher || !onlineThrough(m.spans, alert.publishedAt)) continue
      expected++
      const at = alert.receivedBy.get(m.index)
      if (at !== undefined) {
        delivered++
        latencies.push(Math.max(0, at - alert.publishedAt))
      }
    }
  }

  return {
    propagation: percentiles(propagation),
    nodeDelaysMs: nodeDelays.sort((a, b) => a - b),
    attackers,
    falseBlocks,
    falseBlockPairs,
    missedBlocks: attackers.filter((o) => !everywhere(o)).length,
    missedDetectedBlocks: attackers.filter((o) => o.detectedBy >= quorum && !everywhere(o)).length,
    belowQuorum: attackers.filter((o) => o.detectedBy > 0 && o.detectedBy < quorum && !everywhere(o)).length,
    communityOnlyBlocks: attackers.filter((o) => o.detectedBy === 0 && everywhere(o)).length,
    undetectedAttackers: attackers.filter((o) => o.detectedBy === 0).length,
    delivery: { ratio: expected === 0 ? null : round3(delivered / expected), expected, delivered },
    deliveryLatency: percentiles(latencies),
  }
}

export function round3(x: number): number {
  return Math.round(x * 1000) / 1000
}
