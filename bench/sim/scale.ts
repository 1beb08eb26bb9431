import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { SimReport } from '../../sim/report/report.ts'

/**
 * `npm run bench:sim`: the simulator's scale targets. `shieldwall sim --scenario distributed-bruteforce` at each
 * size in `BENCH_SIM_NODES` (default 30,40,50,100), each in its own process so CPU and peak RSS are that run's,
 * and one line per size: propagation p99 (target < 1 s at 50 nodes), alert latency, delivery, how busy the
 * shared event loop was while traffic ran, CPU, wall time and peak RSS (100 nodes must run to completion).
 */
const ROOT = join(import.meta.dirname, '..', '..')
const OUT = join(ROOT, 'bench', 'out')
const SIZES = (process.env.BENCH_SIM_NODES ?? '30,40,50,100').split(',').map(Number)
const DURATION = Number(process.env.BENCH_SIM_DURATION ?? 30)
const SEED = Number(process.env.BENCH_SIM_SEED ?? 1)
mkdirSync(OUT, { recursive: true })

const rows = []
for (const nodes of SIZES) {
  const file = join(OUT, `sim-${nodes}.json`)
  const cli = [join(ROOT, 'node', 'cli', 'main.ts'), 'sim', '--scenario', 'distributed-bruteforce']
  const args = [...cli, '--nodes', String(nodes), '--seed', String(SEED), '--duration', String(DURATION)]
  // exit 1 only says an assertion failed: the report is what this benchmark prints
  const r = spawnSync(process.execPath, [...args, '--report', file], { encoding: 'utf8', maxBuffer: 1 << 26 })
  if (r.status !== 0 && r.status !== 1) throw new Error(`sim with ${nodes} nodes failed: ${r.stderr}`)
  const report = JSON.parse(readFileSync(file, 'utf8')) as SimReport
  const u = report.resources
  rows.push({
    nodes,
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
  })
}
console.table(rows)
console.log(JSON.stringify({ seed: SEED, durationSeconds: DURATION, runs: rows }))
