import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { serve, type ServerType } from '@hono/node-server'
import { Hono } from 'hono'
import { errorHandler } from '../../node/api/errors.ts'
import { bouncerDecisionRoutes } from '../../node/api/routes/bouncer-decisions.ts'
import { bouncerService } from '../../node/bouncer/bouncer-service.ts'
import { MemoryBlocklist } from '../../node/bouncer/memory-blocklist.ts'
import { silentLogger } from '../../node/logging/logger.ts'
import { openStore } from '../../node/store/open-store.ts'

/**
 * `node bench/decisions/http-bench.ts [--entries N] [--seconds S] [--connections C]`: the CrowdSec live-mode
 * query `GET /v1/decisions?ip=` against a blocklist of N entries (default 1,000,000: 98% addresses, 1% /24s,
 * 1% IPv6 /64s), half the queried addresses blocked and half not, each request a different address. The
 * server is the real bouncer router on @hono/node-server in this process; the load comes from a second
 * process: autocannon (this file with --client), then wrk with a Lua script when /usr/bin/wrk exists.
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

/** Deterministic xorshift32, so runs query the same addresses. */
function rng(seed: number) {
  let s = seed >>> 0 || 1
  return () => {
    s ^= s << 13
    s >>>= 0
    s ^= s >>> 17
    s ^= s << 5
    s >>>= 0
    return s
  }
}

/** A public-looking IPv4 address: first octet 1..223, never 10, 127, 172, 192 (keeps clear of special ranges). */
function ipv4(n: number): string {
  let a = 1 + (n % 223)
  if (a === 10 || a === 127 || a === 172 || a === 192 || a === 100 || a === 169) a = 45
  return `${a}.${(n >>> 8) & 255}.${(n >>> 16) & 255}.${(n >>> 24) & 255 || 1}`
}

function load(list: MemoryBlocklist, entries: number): { hits: string[] } {
  const next = rng(0x5eed)
  const hits: string[] = []
  const hours = (h: number) => h * 3600_000
  for (let i = 0; list.size < entries; i++) {
    const r = next()
    const kind = i % 100
    let value: string
    let probe: string
    if (kind === 0) {
      const base = ipv4(r).split('.').slice(0, 3).join('.')
      value = `${base}.0/24`
      probe = `${base}.${1 + (next() % 254)}`
    } else if (kind === 1) {
      const h = r.toString(16)
      value = `2001:db8:${h.slice(0, 4)}:${h.slice(4) || '0'}::/64`
      probe = `2001:db8:${h.slice(0, 4)}:${h.slice(4) || '0'}::${(next() % 65535).toString(16)}`
    } else {
      value = ipv4(r)
      probe = value
    }
    list.block({
      value,
      scenario: kind === 0 ? 'http-crawl' : 'ssh-bf',
      origin: 'local',
      durationMs: hours(4 + (r % 20)),
    })
    if (hits.length < QUERY_PATHS / 2 && next() % 50 === 0) hits.push(probe)
  }
  return { hits }
}

function queryPaths(list: MemoryBlocklist, hits: string[]): string[] {
  const next = rng(0xbad5eed)
  const misses: string[] = []
  while (misses.length < hits.length) {
    const ip = ipv4(next())
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
  const dir = await mkdtemp(join(tmpdir(), 'shieldwall-http-bench-'))
  const store = await openStore(dir)
  const list = new MemoryBlocklist()
  const service = bouncerService()({ store, blocklist: list, logger: silentLogger() })
  await service.start()
  let server: ServerType | undefined
  try {
    const t0 = performance.now()
    const { hits } = load(list, entries)
    const paths = queryPaths(list, hits)
    const loadSeconds = (performance.now() - t0) / 1000
    const { key } = await service.keys.add('bench')

    const app = new Hono()
    app.onError(errorHandler(silentLogger()))
    app.route('/v1', bouncerDecisionRoutes(service))
    server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s))
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
      `${list.size} entries loaded in ${loadSeconds.toFixed(1)} s (server RSS ${rss} MB); ` +
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
    process.stdout.write(JSON.stringify({ entries: list.size, connections, seconds, results }) + '\n')
  } finally {
    server?.close()
    ;(server as unknown as { closeAllConnections?: () => void } | undefined)?.closeAllConnections?.()
    await service.stop()
    await store.close()
    await rm(dir, { recursive: true, force: true })
  }
}

if (process.argv.includes('--client')) await client()
else await main()
