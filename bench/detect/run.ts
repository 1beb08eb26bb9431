import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { generateNginx, generateSshd } from './generate-logs.ts'

/**
 * `npm run bench:detect`: 1,000,000 sshd and 1,000,000 nginx lines (fixed seeds) through `shieldwall detect`,
 * each in its own process so peak RSS is the command's own, `BENCH_RUNS` times (default 3) each with every run
 * printed and the median reported; fail2ban-regex on the same sshd file where it is installed, in the same run,
 * for the ratio.
 */
const ROOT = join(import.meta.dirname, '..', '..')
const OUT = join(ROOT, 'bench', 'out')
const LINES = Number(process.env.BENCH_LINES ?? 1_000_000)
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 3))
mkdirSync(OUT, { recursive: true })

const sshd = join(OUT, `sshd-${LINES}.log`)
const nginx = join(OUT, `nginx-${LINES}.log`)
if (!existsSync(sshd)) await generateSshd(sshd, LINES)
if (!existsSync(nginx)) await generateNginx(nginx, LINES)

function detect(file: string, format: string) {
  // /usr/bin/time reports the child's peak RSS; fall back to no RSS where it is missing.
  const cli = [join(ROOT, 'node', 'cli', 'main.ts'), 'detect', file, '--format', format, '--json']
  const hasTime = existsSync('/usr/bin/time')
  const r = hasTime
    ? spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, ...cli], {
        encoding: 'utf8',
        maxBuffer: 1 << 28,
      })
    : spawnSync(process.execPath, cli, { encoding: 'utf8', maxBuffer: 1 << 28 })
  if (r.status !== 0) throw new Error(`detect failed: ${r.stderr}`)
  const result = JSON.parse(r.stdout)
  const rssKb = hasTime ? Number(r.stderr.trim().split('\n').at(-1)) : NaN
  return {
    lines: result.lines,
    seconds: result.seconds,
    linesPerSecond: result.linesPerSecond,
    decisions: result.decisions.length,
    peakRssMb: Math.round(rssKb / 1024),
  }
}

type Run = ReturnType<typeof detect>

function median(runs: Run[], key: 'linesPerSecond' | 'peakRssMb' | 'seconds'): number {
  const sorted = runs.map((r) => r[key]).sort((a, b) => a - b)
  return sorted[sorted.length >> 1]
}

const rows: Record<string, unknown>[] = []
const runs: Record<'sshd' | 'nginx', Run[]> = { sshd: [], nginx: [] }
// alternate the files so a slow spell on a shared machine does not land on one of them only
for (let i = 0; i < RUNS; i++) {
  for (const [format, file] of [
    ['sshd', sshd],
    ['nginx', nginx],
  ] as const) {
    const r = detect(file, format)
    runs[format].push(r)
    rows.push({ what: `shieldwall detect ${format} #${i + 1}`, ...r })
  }
}
const s = {
  linesPerSecond: median(runs.sshd, 'linesPerSecond'),
  peakRssMb: median(runs.sshd, 'peakRssMb'),
}
const n = {
  linesPerSecond: median(runs.nginx, 'linesPerSecond'),
  peakRssMb: median(runs.nginx, 'peakRssMb'),
}
for (const format of ['sshd', 'nginx'] as const) {
  rows.push({
    what: `shieldwall detect ${format}, median of ${RUNS}`,
    lines: LINES,
    seconds: median(runs[format], 'seconds'),
    linesPerSecond: median(runs[format], 'linesPerSecond'),
    decisions: runs[format][0].decisions,
    peakRssMb: median(runs[format], 'peakRssMb'),
  })
}

let f2b: number | undefined
try {
  execFileSync('which', ['fail2ban-regex'], { stdio: 'ignore' })
  const t0 = process.hrtime.bigint()
  spawnSync('fail2ban-regex', ['--print-no-missed', '--print-no-ignored', sshd, 'sshd'], {
    stdio: 'ignore',
    timeout: 1_800_000,
  })
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  f2b = LINES / seconds
  rows.push({
    what: 'fail2ban-regex sshd',
    lines: LINES,
    seconds: Math.round(seconds * 100) / 100,
    linesPerSecond: Math.round(f2b),
  })
} catch {
  rows.push({
    what: 'fail2ban-regex sshd',
    note: 'not installed (Debian package fail2ban); no ratio this run',
  })
}
console.table(rows)
console.log(
  JSON.stringify({
    sshdLinesPerSecond: s.linesPerSecond,
    nginxLinesPerSecond: n.linesPerSecond,
    sshdPeakRssMb: s.peakRssMb,
    nginxPeakRssMb: n.peakRssMb,
    runs: RUNS,
    maxPeakRssMb: Math.max(...[...runs.sshd, ...runs.nginx].map((r) => r.peakRssMb)),
    fail2banRatio: f2b === undefined ? null : Math.round((s.linesPerSecond / f2b) * 10) / 10,
    fileBytes: { sshd: statSync(sshd).size, nginx: statSync(nginx).size },
  }),
)
