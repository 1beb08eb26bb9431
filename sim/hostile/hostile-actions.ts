import type { ShieldwallNode } from '../../node/shieldwall-node.ts'
import { sample, type Prng } from '../random.ts'
import type { HostileSpec } from '../scenarios/scenario-spec.ts'

/**
 * Something a hostile member does at `at` ms after the start, through its own (real, signing) node: both kinds
 * falsely report `ip` (plain data, so the thread that runs the member can carry it out).
 */
export interface HostileAction {
  at: number
  member: number
  kind: HostileSpec['kind']
  ip: string
}

export interface HostileContext {
  rand: Prng
  durationMs: number
  hostile: number[]
  /** real users of honest nodes: the addresses a Sybil crowd wants blocked */
  benign: string[]
  /** filled in: the benign addresses that were falsely reported */
  victims: Set<string>
}

/**
 * Hostile members run the real daemon with its real identity, so what they publish is validly signed: the
 * network can only tell them apart by what they say. A false report claims a benign user brute-forced SSH.
 */
export function hostileActions(specs: HostileSpec[], ctx: HostileContext): HostileAction[] {
  const out: HostileAction[] = []
  for (const spec of specs) {
    if (spec.kind === 'false-reports') {
      const victims = sample(ctx.rand, ctx.benign, spec.victims)
      for (const v of victims) ctx.victims.add(v)
      for (const member of ctx.hostile) {
        for (const ip of victims) {
          const at = (spec.window[0] + ctx.rand() * (spec.window[1] - spec.window[0])) * ctx.durationMs
          out.push({ at, member, kind: spec.kind, ip })
        }
      }
    } else {
      const victims = ctx.benign.length > 0 ? ctx.benign : ['192.0.2.1']
      for (const member of ctx.hostile.slice(0, spec.nodes)) {
        for (let i = 0; i < spec.alertsPerNode; i++) {
          const ip = victims[i % victims.length] as string
          ctx.victims.add(ip)
          const at = spec.at * ctx.durationMs + (i * spec.seconds * 1000) / spec.alertsPerNode
          out.push({ at, member, kind: spec.kind, ip })
        }
      }
    }
  }
  return out.sort((a, b) => a.at - b.at)
}

/** A false report: claims a benign user brute-forced SSH, validly signed by the hostile member's node. */
export async function falseReport(node: ShieldwallNode, ip: string): Promise<void> {
  const now = Date.now()
  await node.alerts.publish({
    indicator: ip,
    scenario: 'ssh-bf',
    severity: 'high',
    confidence: 0.95,
    events: 12,
    windowSeconds: 30,
    firstSeen: now - 30_000,
    lastSeen: now,
    ttlSeconds: 4 * 3600,
  })
}
