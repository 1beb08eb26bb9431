import type { TrafficSpec } from '../scenarios/scenario-spec.ts'
import { distributedBruteforce, flood, httpScan, sshBruteforce } from './attacks.ts'
import { benignTraffic } from './benign.ts'
import { byTime, type ScheduledLine, type TrafficContext } from './schedule.ts'

/** Every line of the run, in time order, from the scenario's traffic specs (deterministic given the PRNG). */
export function generateTraffic(specs: TrafficSpec[], ctx: TrafficContext): ScheduledLine[] {
  const out: ScheduledLine[] = []
  for (const spec of specs) {
    switch (spec.kind) {
      case 'benign':
        out.push(...benignTraffic(spec, ctx))
        break
      case 'ssh-bruteforce':
        out.push(...sshBruteforce(spec, ctx))
        break
      case 'http-scan':
        out.push(...httpScan(spec, ctx))
        break
      case 'distributed-bruteforce':
        out.push(...distributedBruteforce(spec, ctx))
        break
      case 'flood':
        out.push(...flood(spec, ctx))
        break
    }
  }
  return out.filter((l) => l.at < ctx.durationMs).sort(byTime)
}
