import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { serve, type ServerType } from '@hono/node-server'
import { formatIp } from '../../protocol/indicator.ts'
import { createApp } from '../../node/api/app.ts'
import { createApiServer } from '../../node/api/bouncer-fast-path.ts'
import { blocklist, type Blocklist } from '../../node/blocklist/blocklist.ts'
import { bouncerService } from '../../node/bouncer/bouncer-service.ts'
import { silentLogger } from '../../node/logging/logger.ts'
import { NodeMetrics } from '../../node/metrics/node-metrics.ts'
import type { ShieldwallNode } from '../../node/shieldwall-node.ts'
import { openStore } from '../../node/store/open-store.ts'
import { randomBytes, writeSyntheticStore } from './synthetic-blocklist.ts'

/**
 * `node bench/decisions/http-bench.ts [--entries N] [--seconds S] [--connections C]`: the CrowdSec live-mode
 * query `GET /v1/decisions?ip=` against a blocklist of N entries (default 1,000,000, `synthetic-blocklist.ts`:
 * 90% IPv4 addresses, 5% IPv4 CIDRs, 5% IPv6), half the queried addresses blocked and half not, each request a
 * different address. The server is what the daemon serves: the node's Blocklist opened from a level store
 * holding the entries, the bouncer service over it, and the control API app (`createApp`, with its latency
 * middleware and bouncer auth) on @hono/node-server in this process. The load comes from a second process:
 * autocannon (this file with --client), then wrk with a Lua script when /usr/bin/wrk exists.
 * Target: >= 15,000 req/s with p99 < 10 ms. Last, the same wrk load against a bare node:http server that
 * answers `null` to everything: the ceiling of this machine at this moment, to read the figures against.
 */

const HERE = import.meta.filename
const QUERY_PATHS = 20_000

interface LoadResult {
  tool: string
  requestsPerSecond: number
  p50Ms: number
  p99Ms: number
  requests: number
  errors: number
  non2xx: number
}

function queryPaths(list: Blocklist, hits: string[]): string[] {
  const misses: string[] = []
  while (misses.length < hits.length) {
    const ip = formatIp(randomBytes(misses.length % 20 === 0 ? 6 : 4))
    if (list.lookup(ip).length === 0) misses.push(ip)
  }
  const paths: string[] = []
  for (let i = 0; i < hits.length; i++) {
    paths.push(
      `/v1/decisions?ip=${encodeURIComponent(hits[i])}`,
      `/v1/decisions?ip=${encodeURIComponent(misses[i])}`,
    )
  }
  return paths
}

/**
 * The parts of a node that the `/v1` routes and the app's middleware read, the rest left out: building the
 * app reads nothing else, and requests to `/v1/decisions` touch only these.
 */
function benchNode(list: Blocklist, bouncers: ReturnType<ReturnType<typeof bouncerService>>): ShieldwallNode {
  return {
    blocklist: list,
    bouncers,
    metrics: new NodeMetrics({ node: 'bench' }),
    tokens: { verify: () => undefined },
  } as unknown as ShieldwallNode
}

// ---- the load generator, run as its own process ----

async function client(): Promise<void> {
  const { values } = parseArgs({
    options: {
      client: { type: 'boolean' },
      url: { type: 'string' },
      key: { type: 'string' },
      paths: { type: 'string' },
      seconds: { type: 'string' },
      connections: { type: 'string' },
    },
  })
  const { readFile } = await import('node:fs/promises')
  const paths = JSON.parse(await readFile(values.paths as string, 'utf8')) as string[]
  const { default: autocannon } = (await import('autocannon' as string)) as { default: any }
  const result = await autocannon({
    url: values.url,
    connections: Number(values.connections),
    duration: Number(values.seconds),
    headers: { 'x-api-key': values.key },
    requests: paths.map((path) => ({ method: 'GET', path })),
  })
  const out: LoadResult = {
    tool: 'autocannon',
    requestsPerSecond: Math.round(result.requests.total / Number(values.seconds)),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    requests: result.requests.total,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  }
  process.stdout.write(JSON.stringify(out) + '\n')
}

function runChild(
  command: string,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('exit', (code) => resolve({ code, stdout, stderr }))
  })
}

function wrkScript(pathsFile: string, key: string): string {
  return `-- varying addresses: one path per line, taken in turn
local paths = {}
for line in io.lines("${pathsFile}") do paths[#paths + 1] = line end
local i = 0
wrk.headers["X-Api-Key"] = "${key}"
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
done = function(summary, latency, requests)
  io.write(string.format('{"requests":%d,"seconds":%f,"p50us":%d,"p99us":%d,"errors":%d,"non2xx":%d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
`
}

async function runWrk(tool: string, url: string, script: string, connections: number, seconds: number) {
  const w = await runChild('/usr/bin/wrk', [
    '-t',
    '1',
    '-c',
    String(connections),
    '-d',
    `${seconds}s`,
    '-s',
    script,
    url,
  ])
  if (w.code !== 0) throw new Error(`wrk failed: ${w.stderr}`)
  const line = w.stdout.split('\n').find((l) => l.startsWith('{"requests"')) as string
  const r = JSON.parse(line)
  return {
    tool,
    requestsPerSecond: Math.round(r.requests / r.seconds),
    p50Ms: r.p50us / 1000,
    p99Ms: r.p99us / 1000,
    requests: r.requests,
    errors: r.errors,
    non2xx: r.non2xx,
  } satisfies LoadResult
}

// ---- the server and the run ----

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      entries: { type: 'string', default: process.env.BENCH_ENTRIES ?? '1000000' },
      seconds: { type: 'string', default: process.env.BENCH_SECONDS ?? '20' },
      connections: { type: 'string', default: process.env.BENCH_CONNECTIONS ?? '32' },
    },
  })
  const entries = Number(values.entries)
  const seconds = Number(values.seconds)
  const connections = Number(values.connections)
  // BENCH_STORE=<dir> keeps the written store there and reuses it on later runs
  const keep = process.env.BENCH_STORE
  const dir = keep ?? (await mkdtemp(join(tmpdir(), 'shieldwall-http-bench-')))
  const t0 = performance.now()
  const synthetic = await writeSyntheticStore(dir, entries, QUERY_PATHS / 2)
  const store = await openStore(dir)
  const list = blocklist()({ store, logger: silentLogger() })
  await list.start()
  const service = bouncerService()({ store, blocklist: list, logger: silentLogger() })
  await service.start()
  let server: ServerType | undefined
  try {
    const paths = queryPaths(list, synthetic.probes)
    const loadSeconds = (performance.now() - t0) / 1000
    const { key } = await service.keys.add(`bench-${Date.now()}`)

    const node = benchNode(list, service)
    const app = createApp(node, 'bench-admin-token-not-used', silentLogger())
    server = await new Promise<ServerType>((resolve) => {
      // the daemon's own server composition: bouncer fast path, then the app
      const s = createApiServer(app, service, node.metrics)
      s.listen(0, '127.0.0.1', () => resolve(s))
    })
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

    // Sanity: a hit answers decisions, a miss answers null.
    const probe = async (path: string) => (await fetch(url + path, { headers: { 'x-api-key': key } })).text()
    if (!(await probe(paths[0])).startsWith('[') || (await probe(paths[1])) !== 'null') {
      throw new Error('sanity check failed: the first path should hit and the second miss')
    }

    const pathsJson = join(dir, 'paths.json')
    await writeFile(pathsJson, JSON.stringify(paths))
    const pathsTxt = join(dir, 'paths.txt')
    await writeFile(pathsTxt, paths.join('\n') + '\n')
    const rss = Math.round(process.memoryUsage().rss / 2 ** 20)
    process.stdout.write(
      `load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}; ` +
        `${list.size} entries written and opened in ${loadSeconds.toFixed(1)} s (server RSS ${rss} MB); ` +
        `${paths.length} distinct query addresses, half blocked; ${connections} connections, ${seconds} s each\n`,
    )

    const results: LoadResult[] = []
    const ac = await runChild(process.execPath, [
      HERE,
      '--client',
      '--url',
      url,
      '--key',
      key,
      '--paths',
      pathsJson,
      '--seconds',
      String(seconds),
      '--connections',
      String(connections),
    ])
    if (ac.code !== 0) throw new Error(`autocannon failed: ${ac.stderr}`)
    results.push(JSON.parse(ac.stdout.trim().split('\n').at(-1) as string))

    if (existsSync('/usr/bin/wrk')) {
      const script = join(dir, 'paths.lua')
      await writeFile(script, wrkScript(pathsTxt, key))
      results.push(await runWrk('wrk', url, script, connections, seconds))
      if (process.env.BENCH_BASELINE !== '0') {
        server.close()
        ;(server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.()
        server = undefined
        const bare: Server = createServer((_req, res) => {
          res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' })
          res.end('null')
        })
        await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve))
        const bareUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}`
        try {
          results.push(await runWrk('baseline', bareUrl, script, connections, seconds))
        } finally {
          bare.close()
          bare.closeAllConnections()
        }
      }
    } else {
      process.stdout.write('wrk not installed (/usr/bin/wrk): autocannon only\n')
    }

    for (const r of results) {
      const verdict =
        r.tool === 'baseline'
          ? "(bare node:http answering null: this machine's ceiling right now)"
          : (r.requestsPerSecond >= 15_000 && r.p99Ms < 10 ? 'meets' : 'MISSES') +
            ' the target (>= 15000 req/s, p99 < 10 ms)'
      process.stdout.write(
        `${r.tool.padEnd(10)} ${String(r.requestsPerSecond).padStart(7)} req/s  p50 ${r.p50Ms.toFixed(2)} ms  ` +
          `p99 ${r.p99Ms.toFixed(2)} ms  (${r.requests} requests, ${r.errors} errors, ${r.non2xx} non-2xx) ` +
          `${verdict}\n`,
      )
    }
    process.stdout.write(
      JSON.stringify({ entries: list.size, connections, seconds, load: loadavg()[0], results }) + '\n',
    )
  } finally {
    server?.close()
    ;(server as unknown as { closeAllConnections?: () => void } | undefined)?.closeAllConnections?.()
    await service.stop()
    await list.stop()
    await store.close()
    if (keep === undefined) await rm(dir, { recursive: true, force: true })
  }
}

if (process.argv.includes('--client')) await client()
else await main()
