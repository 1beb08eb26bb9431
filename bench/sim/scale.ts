import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { SimReport } from '../../sim/report/report.ts'

/**
 * `npm run bench:sim`: the simulator's scale targets. `shieldwall sim --scenario distributed-bruteforce` at each
 * size in `BENCH_SIM_NODES` (default 30,40,50,100) with the scenario's own duration (60 s, as in
 * `shieldwall sim --scenario distributed-bruteforce --nodes 50 --seed 1`), each in its own process so CPU and
 * peak RSS are that run's, and one line per size: the threads that ran nodes, propagation p99 (target < 1 s at
 * 50 nodes), alert latency, delivery, how busy the busiest event loop was while traffic ran, CPU, wall time and
 * peak RSS (100 nodes must run to completion). The baseline, for the sizes in `BENCH_SIM_BASELINE` (default
 * 50), is the same run on one thread (`--workers 1`); the last line is its p99 over the default's.
 */
const ROOT = join(import.meta.dirname, '..', '..')
const OUT = join(ROOT, 'bench', 'out')
const SIZES = (process.env.BENCH_SIM_NODES ?? '30,40,50,100').split(',').map(Number)
const DURATION = process.env.BENCH_SIM_DURATION
const BASELINE = new Set((process.env.BENCH_SIM_BASELINE ?? '50').split(',').filter(Boolean).map(Number))
const SEED = Number(process.env.BENCH_SIM_SEED ?? 1)
mkdirSync(OUT, { recursive: true })

function run(nodes: number, workers?: number) {
  const file = join(OUT, `sim-${nodes}${workers !== undefined ? `-w${workers}` : ''}.json`)
  const cli = [join(ROOT, 'node', 'cli', 'main.ts'), 'sim', '--scenario', 'distributed-bruteforce']
  const args = [...cli, '--nodes', String(nodes), '--seed', String(SEED)]
  if (DURATION !== undefined) args.push('--duration', DURATION)
  if (workers !== undefined) args.push('--workers', String(workers))
  // exit 1 only says an assertion failed: the report is what this benchmark prints
  const r = spawnSync(process.execPath, [...args, '--report', file], { encoding: 'utf8', maxBuffer: 1 << 26 })
  if (r.status !== 0 && r.status !== 1) throw new Error(`sim with ${nodes} nodes failed: ${r.stderr}`)
  const report = JSON.parse(readFileSync(file, 'utf8')) as SimReport
  const u = report.resources
  return {
    nodes,
    workers: report.workers,
    p99Ms: report.propagation.p99Ms,
    p50Ms: report.propagation.p50Ms,
    alertP50Ms: report.deliveryLatency.p50Ms,
    delivery: report.delivery.ratio,
    missed: report.missedDetectedBlocks,
    falseBlocks: report.falseBlocks,
    loopLoad: u.trafficLoopLoad?.mean ?? null,
    cpuSeconds: Math.round((u.cpuUserMs + u.cpuSystemMs) / 100) / 10,
    wallSeconds: Math.round(u.wallMs / 100) / 10,
    peakRssMb: u.peakRssMb,
    passed: report.passed,
  }
}

const rows = []
const ratios = []
for (const nodes of SIZES) {
  const row = run(nodes)
  rows.push(row)
  if (BASELINE.has(nodes) && row.workers > 1) {
    const baseline = run(nodes, 1)
    rows.push(baseline)
    if (row.p99Ms !== null && baseline.p99Ms !== null && row.p99Ms > 0)
      ratios.push({ nodes, baselineP99OverDefault: Math.round((baseline.p99Ms / row.p99Ms) * 10) / 10 })
  }
}
console.table(rows)
for (const r of ratios)
  console.log(
    `${r.nodes} nodes: p99 on one thread / on ${rows.find((x) => x.nodes === r.nodes)?.workers} threads = ${r.baselineP99OverDefault}x`,
  )
console.log(
  JSON.stringify({ seed: SEED, durationSeconds: DURATION ?? 'scenario default', runs: rows, ratios }),
)
