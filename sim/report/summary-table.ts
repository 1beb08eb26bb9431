import { SATURATED_LOOP, SATURATION_NOTE } from '../metrics/resource-meter.ts'
import type { SimReport } from './report.ts'

const ms = (v: number | null) => (v === null ? '-' : `${v} ms`)
const pct = (v: number) => `${Math.round(v * 100)}%`
const kb = (v: number) => `${(v / 1024).toFixed(1)} KiB`

/** how members met: one thread over its transport, or several threads and TCP loopback between them */
export function transportNote(r: Pick<SimReport, 'transport' | 'workers'>): string {
  if (r.workers <= 1) return r.transport
  return r.transport === 'tcp'
    ? `tcp, ${r.workers} threads`
    : `${r.transport} within each of ${r.workers} threads, tcp between them`
}

/** The end-of-run table for a terminal: outcome first, then cost, then each assertion. */
export function summaryTable(r: SimReport): string {
  const rows: [string, string][] = [
    ['scenario', `${r.scenario} (seed ${r.seed}, ${transportNote(r)})`],
    ['nodes', `${r.nodes} (${r.hostileNodes} hostile)`],
    ['duration', `${r.durationSeconds} s traffic, ${(r.resources.wallMs / 1000).toFixed(1)} s wall`],
    ['blocks measured by', r.sources.blocks],
    [
      'propagation p50 / p99 / max',
      `${ms(r.propagation.p50Ms)} / ${ms(r.propagation.p99Ms)} / ${ms(r.propagation.maxMs)} (${r.propagation.count} attackers)`,
    ],
    [
      'delivery ratio',
      r.delivery.ratio === null
        ? '-'
        : `${r.delivery.ratio} (${r.delivery.delivered}/${r.delivery.expected})`,
    ],
    [
      'alert latency p50 / p99 / max',
      `${ms(r.deliveryLatency.p50Ms)} / ${ms(r.deliveryLatency.p99Ms)} / ${ms(r.deliveryLatency.maxMs)}`,
    ],
    ['duplicate ratio', String(r.duplicateRatio ?? '-')],
    [
      'attackers / missed / community-only',
      `${r.attackers} / ${r.missedBlocks} (${r.missedDetectedBlocks} detected) / ${r.communityOnlyBlocks}`,
    ],
    ['false blocks', `${r.falseBlocks} addresses (${r.falseBlockPairs} node-address pairs)`],
    [
      'sent per node mean / max',
      `${kb(r.bytesPerNode.mean)} / ${kb(r.bytesPerNode.max)}, ${r.messagesPerNode.mean} msgs`,
    ],
    [
      'connections mean (min-max)',
      `${r.network.meanConnections} (${r.network.minConnections}-${r.network.maxConnections})`,
    ],
    ['cpu user + system', `${((r.resources.cpuUserMs + r.resources.cpuSystemMs) / 1000).toFixed(1)} s`],
    ['peak rss / heap', `${r.resources.peakRssMb} MiB / ${r.resources.peakHeapMb} MiB`],
  ]
  const load = r.resources.trafficLoopLoad
  if (load !== null)
    rows.push([
      'event loop load (traffic)',
      `mean ${pct(load.mean)}, max ${pct(load.max)}` +
        (load.mean >= SATURATED_LOOP ? `: ${SATURATION_NOTE}` : ''),
    ])
  if (r.churn !== undefined)
    rows.push([
      'churn',
      `${r.churn.rejoined} rejoined, ${r.churn.rejoinedIsolated} isolated, catch-up coverage ${r.churn.lateJoinerCoverage ?? '-'}, after-rejoin missed ${r.churn.afterRejoinMissed}`,
    ])
  if (r.partition !== undefined)
    rows.push([
      'partition',
      `leaks ${r.partition.leaks}, within-side missed ${r.partition.withinSideMissed}, after-heal missed ${r.partition.afterHealMissed}, catch-up missed ${r.partition.catchUpMissed}`,
    ])
  if (r.trust.final.honestMean !== null)
    rows.push([
      'trust honest / hostile',
      `${r.trust.final.honestMean} / ${r.trust.final.hostileMean ?? '-'} (${r.trust.model}; hostile from ${r.trust.initial.hostileMean ?? '-'}), gossip score ${r.trust.gossipScore.honestMean ?? '-'} / ${r.trust.gossipScore.hostileMean ?? '-'}`,
    ])
  const alertWarm = r.network.alertWarmUp
  if (alertWarm !== undefined)
    rows.push([
      'alert-path warm-up',
      `1 attacker on ${alertWarm.reporters} nodes, blocked on ${alertWarm.blockedOn}/${alertWarm.honest} honest in ${(alertWarm.ms / 1000).toFixed(1)} s (not measured)`,
    ])
  if (r.trust.warmUp !== undefined)
    rows.push([
      'organic warm-up',
      `${r.trust.warmUp.attackers} attackers, ${(r.trust.warmUp.ms / 1000).toFixed(1)} s; honest pairs trusted ${r.trust.warmUp.trustedPairs}/${r.trust.warmUp.pairs} (min trust ${r.trust.warmUp.minTrust})${r.trust.warmUp.reached ? '' : ' (target not reached)'}`,
    ])
  rows.push([
    'sightings / below quorum',
    `${r.perNode.reduce((s, n) => s + n.sightings, 0)} / ${r.belowQuorum}`,
  ])
  const width = Math.max(...rows.map(([k]) => k.length))
  const lines = rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`)
  lines.push('', '  assertions:')
  for (const a of r.assertions) {
    const mark = a.status === 'pass' ? 'PASS' : a.status === 'fail' ? 'FAIL' : 'SKIP'
    const why = a.status === 'skipped' ? ` (needs ${(a.requires ?? []).join(', ')}, not in this tree)` : ''
    lines.push(`  ${mark}  ${a.metric} ${a.op} ${a.expected}: got ${a.actual ?? '-'}${why}`)
  }
  lines.push('', `  ${r.passed ? 'PASSED' : 'FAILED'}`)
  return lines.join('\n') + '\n'
}
