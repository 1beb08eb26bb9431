import { cp, mkdtemp, readFile, rm } from 'node:fs/promises'
import { request, type ClientRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { CLI, startProcess, stopProcess, type RunningProcess } from '../../test/helpers/processes.ts'
import { writeSyntheticStore } from '../decisions/synthetic-blocklist.ts'

/**
 * `node bench/streams/idle-readers.ts [--entries N] [--readers R] [--hold S] [--old-cli PATH] [--route sse|export]`: issue 15,
 * finding 2. A real node (`shieldwall start`, its own process) with N blocklist entries (default 110,000,
 * `bench/decisions/synthetic-blocklist.ts`) gets R clients (default 300) opening
 * `GET /api/defense/decisions/stream?snapshot=true` with one read token and never reading, then holds them for
 * S seconds. Throughout, /healthz is asked every 50 ms and the node's RSS read from /proc (a first run with no
 * reader gives the machine's own figures to read the others against). Printed per run:
 * streams admitted and refused, peak RSS (VmHWM; target < 1 GB), /healthz max and p99 (target < 200 ms), and
 * whether the node survived. Runs: the default limits (`api.streams`: 8 per token, 64 in all); the caps raised
 * to admit all R (to show what each admitted idle reader costs); and, with `--old-cli` pointing at the CLI of a
 * tree from before the fix (e.g. `git archive <commit> | tar -x -C /tmp/old`, node_modules linked), the old
 * behaviour. `--route export` opens `GET /api/defense/network/blocklist?format=ipset&timeouts=1` (the largest
 * firewall export, about 6 MB for 110,000 entries) instead of the SSE snapshot. Every node runs with a 2 GB heap (`--max-old-space-size=2048`) so a run that would eat the machine
 * stops at that instead. Loopback only; the reader loop is bounded by R and each run by S seconds.
 */

const HEAP_MB = 2048

interface RunResult {
  run: string
  readers: number
  admitted: number
  refused: number
  otherStatus: number
  openMs: number
  peakRssMb: number
  rssAtEndMb: number
  healthzSamples: number
  healthzFailures: number
  healthzP50Ms: number
  healthzP99Ms: number
  healthzMaxMs: number
  survived: boolean
}

async function procStatus(pid: number): Promise<{ rssMb: number; hwmMb: number } | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/status`, 'utf8')
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0)
    return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 }
  } catch {
    return undefined
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

/** One request; the time to a complete answer, or undefined when it failed or took over `timeoutMs`. */
function timedGet(url: string, timeoutMs: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const t0 = performance.now()
    const req = request(url, { agent: false, timeout: timeoutMs }, (res) => {
      res.resume()
      res.once('end', () => resolve(res.statusCode === 200 ? performance.now() - t0 : undefined))
      res.once('error', () => resolve(undefined))
    })
    req.once('timeout', () => {
      req.destroy()
      resolve(undefined)
    })
    req.once('error', () => resolve(undefined))
    req.end()
  })
}

/** What each idle reader asks for. */
const ROUTES = {
  sse: '/api/defense/decisions/stream?snapshot=true',
  export: '/api/defense/network/blocklist?format=ipset&timeouts=1',
} as const

/** Opens a stream and never reads it; resolves with its status once the headers are in. */
function openIdle(url: string, token: string, sockets: ClientRequest[]): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { headers: { authorization: `Bearer ${token}` }, agent: false, timeout: 30_000 })
    sockets.push(req)
    req.once('response', (res) => {
      // a refusal is read (it is small); an admitted stream is left unread
      if (res.statusCode !== 200) res.resume()
      resolve(res.statusCode ?? 0)
    })
    req.once('timeout', () => resolve(0))
    req.once('error', () => resolve(0))
    req.end()
  })
}

async function runOnce(
  name: string,
  dataDir: string,
  cli: string,
  env: NodeJS.ProcessEnv,
  readers: number,
  holdSeconds: number,
  route: keyof typeof ROUTES,
): Promise<RunResult> {
  const node: RunningProcess = await startProcess(
    ['--data-dir', dataDir, '--api', '127.0.0.1:0', '--listen', '/ip4/127.0.0.1/tcp/0'],
    { SHIELDWALL_LOG_LEVEL: 'warn', ...env },
    [process.execPath, `--max-old-space-size=${HEAP_MB}`, cli, 'start'],
  )
  const pid = node.child.pid as number
  const base = node.ready.api
  const admin = (await readFile(join(dataDir, 'api-token'), 'utf8')).trim()
  const created = await fetch(`${base}/api/tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ scope: 'read', name: `bench-${Date.now()}` }),
  })
  const { token } = (await created.json()) as { token: string }

  const latencies: number[] = []
  let failures = 0
  let peakRss = 0
  let sampling = true
  const sampler = (async () => {
    while (sampling) {
      const ms = await timedGet(`${base}/healthz`, 5_000)
      if (ms === undefined) failures++
      else latencies.push(ms)
      const status = await procStatus(pid)
      if (status !== undefined) peakRss = Math.max(peakRss, status.hwmMb)
      await new Promise((r) => setTimeout(r, 50))
    }
  })()

  const sockets: ClientRequest[] = []
  const statuses: number[] = []
  const t0 = performance.now()
  const url = `${base}${ROUTES[route]}`
  for (let i = 0; i < readers; i++) {
    if (node.child.exitCode !== null || node.child.signalCode !== null) break
    statuses.push(await openIdle(url, token, sockets))
  }
  const openMs = performance.now() - t0
  const holdUntil = performance.now() + holdSeconds * 1000
  while (performance.now() < holdUntil && node.child.exitCode === null && node.child.signalCode === null) {
    await new Promise((r) => setTimeout(r, 200))
  }
  const end = await procStatus(pid)
  const survived = node.child.exitCode === null && node.child.signalCode === null
  sampling = false
  await sampler
  for (const s of sockets) s.destroy()
  if (survived) await stopProcess(node)
  if (end !== undefined) peakRss = Math.max(peakRss, end.hwmMb)
  latencies.sort((a, b) => a - b)
  return {
    run: name,
    readers,
    admitted: statuses.filter((s) => s === 200).length,
    refused: statuses.filter((s) => s === 429).length,
    otherStatus: statuses.filter((s) => s !== 200 && s !== 429).length + (readers - statuses.length),
    openMs: Math.round(openMs),
    peakRssMb: Math.round(peakRss),
    rssAtEndMb: Math.round(end?.rssMb ?? NaN),
    healthzSamples: latencies.length + failures,
    healthzFailures: failures,
    healthzP50Ms: Number(percentile(latencies, 50).toFixed(1)),
    healthzP99Ms: Number(percentile(latencies, 99).toFixed(1)),
    healthzMaxMs: Number((latencies.at(-1) ?? NaN).toFixed(1)),
    survived,
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      entries: { type: 'string', default: '110000' },
      readers: { type: 'string', default: '300' },
      hold: { type: 'string', default: '20' },
      'old-cli': { type: 'string' },
      route: { type: 'string', default: 'sse' },
    },
  })
  const entries = Number(values.entries)
  const readers = Number(values.readers)
  const hold = Number(values.hold)
  const route = values.route as keyof typeof ROUTES
  if (!(route in ROUTES)) throw new Error(`--route must be one of ${Object.keys(ROUTES).join(', ')}`)
  const seed = await mkdtemp(join(tmpdir(), 'shieldwall-streams-bench-'))
  const results: RunResult[] = []
  try {
    const t0 = performance.now()
    await writeSyntheticStore(seed, entries, 0)
    process.stderr.write(`store of ${entries} entries written in ${Math.round(performance.now() - t0)} ms\n`)
    const runs: Array<[string, string, NodeJS.ProcessEnv, number]> = [
      // the machine's own /healthz figures with no reader at all, to read the others against
      ['no readers (baseline)', CLI, {}, 0],
      ['default limits', CLI, {}, readers],
      [
        `caps raised to ${readers}`,
        CLI,
        {
          SHIELDWALL_API_STREAMS_MAX_PER_TOKEN: String(readers),
          SHIELDWALL_API_STREAMS_MAX_TOTAL: String(readers),
        },
        readers,
      ],
    ]
    if (values['old-cli'] !== undefined) runs.push(['before the fix', values['old-cli'], {}, readers])
    for (const [name, cli, env, count] of runs) {
      // each node gets its own copy of the store, so one run's writes do not reach the next
      const dataDir = `${seed}-${results.length}`
      await cp(seed, dataDir, { recursive: true })
      try {
        process.stderr.write(`${name}: ${count} idle ${route} readers, held ${hold} s...\n`)
        const result = await runOnce(name, dataDir, cli, env, count, hold, route)
        results.push(result)
        process.stdout.write(JSON.stringify(result) + '\n')
      } finally {
        await rm(dataDir, { recursive: true, force: true })
      }
    }
  } finally {
    await rm(seed, { recursive: true, force: true })
  }
  console.table(
    results.map((r) => ({
      run: r.run,
      'admitted/refused': `${r.admitted}/${r.refused}`,
      'peak RSS MB': r.peakRssMb,
      'healthz p99 ms': r.healthzP99Ms,
      'healthz max ms': r.healthzMaxMs,
      'healthz failed': `${r.healthzFailures}/${r.healthzSamples}`,
      survived: r.survived,
    })),
  )
  process.stdout.write('targets: peak RSS < 1024 MB, /healthz p99 and max < 200 ms, node survives\n')
}

await main()
