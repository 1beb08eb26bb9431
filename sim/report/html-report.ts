import { writeFile } from 'node:fs/promises'
import { SATURATED_LOOP, SATURATION_NOTE } from '../metrics/resource-meter.ts'
import type { ReportRound, SimReport } from './report.ts'
import { escapeHtml, lineChart, type Series } from './svg-chart.ts'
import { summaryTable, transportNote } from './summary-table.ts'

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f']

/**
 * One self-contained HTML file: inline CSS and server-drawn SVG, no script, no external resource, so it can
 * be attached to an issue or opened from a CI artifact as is.
 */
export function renderHtmlReport(r: SimReport): string {
  const sections: string[] = []
  sections.push(`<section id="summary"><h2>Summary</h2><pre>${escapeHtml(summaryTable(r))}</pre></section>`)

  const cdf = r.timelines.propagationCdfMs
  const cdfPoints: [number, number][] = cdf.map((d, i) => [d, (i + 1) / cdf.length])
  sections.push(
    `<section id="propagation-cdf"><h2>Propagation</h2>
<p>Time from an attacker's first local detection (on any node) to its block on each honest node; ${cdf.length} node-attacker pairs. p50 ${r.propagation.p50Ms ?? '-'} ms, p99 ${r.propagation.p99Ms ?? '-'} ms, max ${r.propagation.maxMs ?? '-'} ms (per attacker, last honest node).</p>
${lineChart({
  title: 'Propagation CDF',
  xLabel: 'delay (ms)',
  yLabel: 'share of node-attacker pairs',
  yMin: 0,
  yMax: 1,
  series: [
    {
      name: 'blocked within',
      points: cdfPoints.length > 0 ? [[0, 0], ...cdfPoints] : [],
      color: PALETTE[0] as string,
      step: true,
    },
  ],
})}</section>`,
  )

  const blockSeries: Series[] = r.timelines.blocks.map((n, i) => ({
    name: n.name,
    points: [[0, 0], ...n.times.map((t, k): [number, number] => [t / 1000, k + 1])],
    color: PALETTE[i % PALETTE.length] as string,
    width: 1.2,
    opacity: 0.6,
    step: true,
  }))
  sections.push(
    `<section id="blocks-over-time"><h2>Blocks over time</h2>
<p>Cumulative addresses blocked on each honest node (${r.timelines.blocks.length} lines); measured with ${escapeHtml(r.sources.blocks)}.</p>
${lineChart({
  title: 'Blocks per honest node',
  xLabel: 'seconds since start',
  yLabel: 'addresses blocked',
  series: blockSeries,
  markers: r.timelines.events.map((e) => ({ x: e.t / 1000, label: e.label })),
})}</section>`,
  )

  if (r.rounds !== undefined) sections.push(learningSection(r))

  const trust = r.timelines.trust
  const pts = (k: 'honest' | 'hostile') =>
    trust.filter((s) => s[k] !== null).map((s): [number, number] => [s.t / 1000, s[k] as number])
  sections.push(
    `<section id="trust"><h2>Trust</h2>
<p>Mean trust that honest nodes place in honest and in hostile peers (${escapeHtml(r.sources.trust)}).</p>
${lineChart({
  title: 'Trust of honest vs hostile peers',
  xLabel: 'seconds since start',
  yLabel: 'mean trust',
  legend: true,
  series: [
    { name: 'honest peers', points: pts('honest'), color: PALETTE[2] as string },
    { name: 'hostile peers', points: pts('hostile'), color: PALETTE[3] as string },
  ],
  markers: r.timelines.events.map((e) => ({ x: e.t / 1000, label: e.label })),
})}</section>`,
  )

  const rows = r.perNode
    .map(
      (n) =>
        `<tr><td>${escapeHtml(n.name)}</td><td>${n.role}</td><td>${n.connections}</td><td>${n.messagesSent}</td><td>${n.bytesSent}</td><td>${n.duplicatesReceived}</td><td>${n.blocks}</td><td>${n.localDetections}</td><td>${n.alertsAccepted}</td><td>${n.alertsIgnored}</td><td>${n.alertsRejected}</td></tr>`,
    )
    .join('\n')
  sections.push(
    `<section id="nodes"><h2>Nodes</h2><table><thead><tr><th>node</th><th>role</th><th>conns</th><th>msgs sent</th><th>bytes sent</th><th>dups recv</th><th>blocks</th><th>local</th><th>accepted</th><th>ignored</th><th>rejected</th></tr></thead><tbody>${rows}</tbody></table></section>`,
  )

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>shieldwall sim: ${escapeHtml(r.scenario)} (${r.nodes} nodes, seed ${r.seed})</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:760px;color:#222}
h1{font-size:20px}h2{font-size:16px;margin-top:2em;border-bottom:1px solid #ddd}
pre{background:#f6f6f6;padding:1em;overflow:auto;font-size:12px}
table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ddd;padding:2px 6px;text-align:right}
.pass{color:#2a7}.fail{color:#c22}
</style></head><body>
<h1>shieldwall sim: ${escapeHtml(r.scenario)} <span class="${r.passed ? 'pass' : 'fail'}">${r.passed ? 'passed' : 'failed'}</span></h1>
<p>${escapeHtml(r.description)}</p>
<p>${r.nodes} nodes (${r.hostileNodes} hostile), seed ${r.seed}, ${escapeHtml(transportNote(r))}, ${r.durationSeconds} s, started ${escapeHtml(r.startedAt)}.</p>
<p>${costLine(r)}</p>
${sections.join('\n')}
</body></html>
`
}

/** What the run cost this machine, and whether its one event loop was saturated (then latencies are its). */
function costLine(r: SimReport): string {
  const u = r.resources
  const load = u.trafficLoopLoad
  const loadText =
    load === null
      ? ''
      : `; event loop busy ${Math.round(load.mean * 100)}% on average while traffic ran (peak ${Math.round(load.max * 100)}%)` +
        (load.mean >= SATURATED_LOOP ? `, <strong class="fail">${SATURATION_NOTE}</strong>` : '')
  return `All nodes share one process: ${((u.cpuUserMs + u.cpuSystemMs) / 1000).toFixed(1)} s CPU in ${(u.wallMs / 1000).toFixed(1)} s wall, peak RSS ${u.peakRssMb} MiB${loadText}.`
}

/** Accuracy and epsilon per round, one line per aggregation rule when runs are compared, and the rounds' table. */
function learningSection(r: SimReport): string {
  const rounds = r.rounds ?? []
  if (rounds.length === 0)
    return `<section id="learning"><h2>Federated learning</h2><p>${escapeHtml(r.learning?.note ?? 'no rounds were run')}</p></section>`
  const rules = [...new Set(rounds.map((x) => x.rule ?? 'federation'))]
  const series = (pick: (x: ReportRound) => number, offset: number): Series[] =>
    rules.map((rule, i) => ({
      name: rule,
      points: rounds.filter((x) => (x.rule ?? 'federation') === rule).map((x) => [x.round, pick(x)]),
      color: PALETTE[(i + offset) % PALETTE.length] as string,
    }))
  const l = r.learning
  const intro =
    l === undefined
      ? ''
      : `<p>Rule ${escapeHtml(l.rule)}${l.baselineRule !== null ? ` against ${escapeHtml(l.baselineRule)} (plain updates, second identical network)` : ''}; poisoned by ${escapeHtml(l.poisoners.join(', ') || 'nobody')}. Accuracy of the federation's model on ${l.testExamples} KDDTest+ records after each round, scored by the harness; epsilon is the most any honest node has spent (budget ${l.epsilonBudget}).</p>`
  const rows = rounds
    .map(
      (x) =>
        `<tr><td>${escapeHtml(x.rule ?? '-')}</td><td>${x.round}</td><td>${x.accuracy}</td><td>${x.f1 ?? '-'}</td><td>${x.fpr ?? '-'}</td><td>${x.epsilon}</td><td>${x.agreed === undefined ? '-' : x.agreed ? 'yes' : 'no'}</td><td>${x.adopted ?? '-'}/${x.honest ?? '-'}</td><td>${x.participants ?? '-'}</td></tr>`,
    )
    .join('\n')
  return `<section id="learning"><h2>Federated learning</h2>${intro}
${lineChart({ title: 'Accuracy per round', xLabel: 'round', yLabel: 'accuracy', yMin: 0, yMax: 1, legend: rules.length > 1, series: series((x) => x.accuracy, 2) })}
${lineChart({ title: 'Privacy budget spent', xLabel: 'round', yLabel: 'epsilon', yMin: 0, legend: rules.length > 1, series: series((x) => x.epsilon, 2) })}
<table><thead><tr><th>rule</th><th>round</th><th>accuracy</th><th>F1</th><th>FPR</th><th>epsilon</th><th>same model</th><th>adopted</th><th>updates</th></tr></thead><tbody>${rows}</tbody></table></section>`
}

export async function writeHtmlReport(path: string, report: SimReport): Promise<void> {
  await writeFile(path, renderHtmlReport(report))
}
