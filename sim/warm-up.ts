import type { AddressPool } from './addresses.ts'
import { sleep } from './network.ts'
import { randomInt, shuffled, stream } from './random.ts'
import type { ClusterMember, LogLine, SimCluster } from './shards/sim-cluster.ts'
import { sshdLine } from './traffic/log-lines.ts'

export interface WarmUpInit {
  seed: number
  attackers: AddressPool
  /** a community block needs this many trusted voices; the warm-up aims for at least that many per node */
  minTrustedReporters: number
  /** each pair of walks (one order and its reverse) earns every ordered honest pair one corroboration */
  walkPairs: number
  /** time between two nodes of one walk: long enough for the earlier node's alert to arrive first */
  stepMs: number
  /**
   * between the starts of two pairs of walks: spread out, a node detects a few attackers at a time rather than
   * all of them at once, and its alerts do not queue behind the burst (each must beat the next step)
   */
  pairSpacingMs: number
  /** failed logins per node: over ssh-bf's capacity, so every node detects */
  attemptsPerNode: number
  attemptIntervalMs: number
  /** the trust a peer needs to count as a trusted voice (blocklist.trustedThreshold) */
  trustedThreshold: number
  /** share of ordered honest pairs that must be trusted for the warm-up to be done */
  targetShare: number
  /** after the last line, wait at most this long for trust to settle */
  settleMs: number
  onProgress?: (done: number, total: number) => void
}

/** How the organic warm-up went, for the report. */
export interface WarmUpOutcome {
  attackers: number
  /** wall time from the first warm-up line until the target was reached (or gave up) */
  ms: number
  pairs: number
  trustedPairs: number
  /** lowest trust any honest node has in any honest peer at the end */
  minTrust: number
  /** honest nodes that trust at least `minTrustedReporters` - 1 honest peers (with their own detectors, k voices) */
  nodesWithQuorum: number
  reached: boolean
}

const DEFAULTS: Omit<WarmUpInit, 'seed' | 'attackers' | 'minTrustedReporters'> = {
  walkPairs: 12,
  stepMs: 300,
  pairSpacingMs: 300,
  attemptsPerNode: 7,
  attemptIntervalMs: 40,
  trustedThreshold: 0.6,
  targetShare: 0.9,
  settleMs: 30_000,
}

const TICK_MS = 50

/**
 * Organic trust, without pins: before the measured run, warm-up attackers walk over every honest node, one
 * node every `stepMs`. A node that detects an attacker after a peer's alert about it arrived credits that peer
 * (corroborated-by-own-detector); reporting first is what an echo cannot fake. Walks come in pairs, one order
 * and its reverse, so each pair of walks earns every ordered honest pair exactly one credit: ten or so credits
 * lift a peer from the prior (~0.04) over the trusted threshold (0.6). Hostile members run no attacked service
 * here, so they earn nothing.
 */
export async function organicWarmUp(
  cluster: SimCluster,
  init: Partial<WarmUpInit> & Pick<WarmUpInit, 'seed' | 'attackers' | 'minTrustedReporters'>,
): Promise<WarmUpOutcome> {
  const o: WarmUpInit = { ...DEFAULTS, ...init }
  const honest = cluster.online().filter((m) => m.role === 'honest')
  const rand = stream(o.seed, 'warm-up')
  interface Line {
    at: number
    member: ClusterMember
    render: (now: number) => string
  }
  const lines: Line[] = []
  const walks = o.walkPairs * 2
  for (let p = 0; p < o.walkPairs; p++) {
    const order = shuffled(rand, honest)
    for (const walk of [order, order.slice().reverse()]) {
      const ip = o.attackers.next()
      // walks start staggered so a node is not hit by all of them at the same instant
      const offset = p * o.pairSpacingMs + randomInt(rand, o.stepMs)
      walk.forEach((member, step) => {
        const pid = 1000 + randomInt(rand, 60_000)
        for (let i = 0; i < o.attemptsPerNode; i++) {
          const port = 30_000 + randomInt(rand, 30_000)
          lines.push({
            at: offset + step * o.stepMs + i * o.attemptIntervalMs,
            member,
            render: (now) =>
              sshdLine(now, member.name, pid, ip, { kind: 'failed-password', user: 'root', port }),
          })
        }
      })
    }
  }
  lines.sort((a, b) => a.at - b.at)
  const total = lines.at(-1)?.at ?? 0
  const t0 = Date.now()
  let li = 0
  while (li < lines.length) {
    const elapsed = Date.now() - t0
    const due: LogLine[] = []
    const now = Date.now()
    for (; li < lines.length && (lines[li] as Line).at <= elapsed; li++) {
      const l = lines[li] as Line
      due.push({ member: l.member.index, file: 'auth', text: l.render(now) })
    }
    await cluster.append(due)
    o.onProgress?.(Math.min(elapsed, total), total)
    await sleep(TICK_MS)
  }
  const view = () =>
    cluster.trustPairs(
      honest.map((m) => m.index),
      o.trustedThreshold,
      o.minTrustedReporters,
    )
  let trust = await view()
  const deadline = Date.now() + o.settleMs
  while (trust.trustedPairs < o.targetShare * trust.pairs && Date.now() < deadline) {
    await sleep(500)
    trust = await view()
  }
  return {
    attackers: walks,
    ms: Date.now() - t0,
    ...trust,
    minTrust: Math.round(trust.minTrust * 1000) / 1000,
    reached: trust.trustedPairs >= o.targetShare * trust.pairs,
  }
}

/** How the alert-path warm-up went, for the report. */
export interface AlertWarmUpOutcome {
  /** wall time from its first line until every honest member blocked the address (or the deadline) */
  ms: number
  reporters: number
  /** (member, address) blocks the warm-up address got, against the honest members online */
  blockedOn: number
  honest: number
}

/**
 * Before a run on pinned (community) trust: one warm-up attacker brute-forces `reporters` honest members, enough
 * for a community block everywhere, so every node takes its alert path once (ingest, detection, signing, gossip,
 * validation, evidence, the blocklist's first writes) before anything is measured. Every process of a real
 * network did that long before its latest attack; here all members would do it at the same instant, in the
 * measured run's first attack, on the machine's two cores.
 */
export async function alertPathWarmUp(
  cluster: SimCluster,
  init: { seed: number; attackers: AddressPool; reporters: number; deadlineMs?: number },
): Promise<AlertWarmUpOutcome> {
  const honest = cluster.online().filter((m) => m.role === 'honest')
  const rand = stream(init.seed, 'alert-warm-up')
  const reporters = shuffled(rand, honest).slice(0, init.reporters)
  const ip = init.attackers.next()
  const before = (await cluster.sample()).blocks
  const t0 = Date.now()
  for (let i = 0; i < DEFAULTS.attemptsPerNode; i++) {
    const now = Date.now()
    await cluster.append(
      reporters.map((member) => ({
        member: member.index,
        file: 'auth',
        text: sshdLine(now, member.name, 1000 + i, ip, {
          kind: 'failed-password',
          user: 'root',
          port: 30_000 + randomInt(rand, 30_000),
        }),
      })),
    )
    await sleep(DEFAULTS.attemptIntervalMs)
  }
  const deadline = t0 + (init.deadlineMs ?? 15_000)
  let blockedOn = (await cluster.sample()).blocks - before
  while (blockedOn < honest.length && Date.now() < deadline) {
    await sleep(TICK_MS * 4)
    blockedOn = (await cluster.sample()).blocks - before
  }
  return { ms: Date.now() - t0, reporters: reporters.length, blockedOn, honest: honest.length }
}
