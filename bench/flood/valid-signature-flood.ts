import { spawn, type ChildProcess } from 'node:child_process'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { SCORE_THRESHOLDS } from '../../node/p2p/gossip-scoring.ts'
import { TOPICS } from '../../protocol/topics.ts'
import { createHostilePeer, presignAlerts, rpcFrames } from '../../test/helpers/hostile-peer.ts'
import { CLI, startProcess, stopProcess } from '../../test/helpers/processes.ts'
import { tempDir } from '../../test/helpers/test-node.ts'

/**
 * `npm run bench:flood [-- --count N --interval MS --per-rpc K]`: issue 15, finding 3. One fresh key signs N alerts in
 * advance (default 20,000), then floods them in gossipsub RPCs of K messages (default 1,000; 0: one publish each) at a real `shieldwall start`
 * daemon (its own process) over loopback, while a third process asks the daemon's `/healthz` every
 * `--interval` ms (default 20) and times each answer. Prints how long the daemon took to judge the flood (until
 * its alert counters stop moving), what it accepted and refused, the `/healthz` latency from the flood to the
 * end of judging (max, p99, p50; target: within 200 ms throughout) beside the same for 3 s before the flood and whether the flooder ended below gossipsub's graylist threshold.
 */

const SAMPLER = join(import.meta.dirname, 'healthz-sampler.ts')
/** judging is over when the daemon's alert counters have not moved for this long */
const SETTLE_MS = 3000

const { values: args } = parseArgs({
  options: {
    count: { type: 'string', default: '20000' },
    interval: { type: 'string', default: '20' },
    /** messages per gossipsub RPC frame; 0 publishes one by one through the flooder's own gossipsub */
    'per-rpc': { type: 'string', default: '1000' },
    /**
     * keep the signed alerts (and the key) in this file and reuse them while they are under 30 minutes old:
     * signing 20,000 takes about a minute on a busy machine
     */
    cache: { type: 'string' },
    /** write a V8 CPU profile of the daemon into this directory */
    profile: { type: 'string' },
  },
})

await main()

async function main(): Promise<void> {
  const count = Number(args.count)
  let t = performance.now()
  const cached = args.cache !== undefined ? await readCache(args.cache, count) : undefined
  const flooder = await createHostilePeer(cached?.secretKey)
  let batch = cached?.batch
  if (batch === undefined) {
    batch = presignAlerts(flooder, count, { ttlMs: 3_600_000 })
    console.log(
      `signed ${count} alerts in advance with one key in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    )
    if (args.cache !== undefined) await writeCache(args.cache, flooder.secretKey, batch)
  } else console.log(`${count} alerts signed in advance by one key, from ${args.cache}`)

  const dataDir = await tempDir('shieldwall-flood-')
  const daemon = await startProcess(
    [
      '--data-dir',
      dataDir,
      '--name',
      'flood-target',
      '--api',
      '127.0.0.1:0',
      '--listen',
      '/ip4/127.0.0.1/tcp/0',
      '--log-level',
      'error',
    ],
    {},
    [
      process.execPath,
      ...(args.profile !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${args.profile}`] : []),
      CLI,
      'start',
    ],
  )
  const token = (await readFile(join(dataDir, 'api-token'), 'utf8')).trim()
  const api = daemon.ready.api
  const get = async (path: string) => {
    const res = await fetch(api + path, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(60_000),
    })
    return res.text()
  }
  const judged = async () => {
    const counts: Record<string, number> = {}
    for (const line of (await get('/metrics')).split('\n')) {
      if (!line.startsWith('shieldwall_alerts_total{')) continue
      const outcome = /outcome="(\w+)"/.exec(line)?.[1]
      const reason = /reason="(\w*)"/.exec(line)?.[1] ?? ''
      const value = Number(line.slice(line.lastIndexOf(' ') + 1))
      if (outcome === undefined || outcome === 'published' || !Number.isFinite(value)) continue
      counts[reason === '' ? outcome : `${outcome}:${reason}`] = value
    }
    return counts
  }
  const total = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0)

  let sampler: ChildProcess | undefined
  try {
    await flooder.connectTo(daemon.ready.addresses[0])
    // the daemon must have the flooder's subscription too before the first message counts
    await new Promise((r) => setTimeout(r, 1000))

    const latencies: number[] = []
    let failures = 0
    sampler = spawn(process.execPath, [SAMPLER, api + '/healthz', args.interval!], {
      stdio: ['pipe', 'pipe', 'inherit'],
    })
    const samplerReady = new Promise<void>((resolve) => {
      createInterface({ input: sampler!.stdout! }).on('line', (line) => {
        if (line === 'ready') return resolve()
        const s = JSON.parse(line) as { ms: number; ok: boolean }
        latencies.push(s.ms)
        if (!s.ok) failures++
      })
    })
    await samplerReady
    // a few seconds with no flood: what /healthz takes on this machine at this moment, to read the rest against
    await new Promise((r) => setTimeout(r, 3000))
    const baseline = latencies.splice(0)

    const perRpc = Number(args['per-rpc'])
    const frames = perRpc > 0 ? rpcFrames(TOPICS.alerts, batch, perRpc) : []
    t = performance.now()
    if (perRpc > 0) await flooder.writeRpcs(daemon.ready.peerId, frames)
    else await flooder.publishMany(TOPICS.alerts, batch)
    const sendMs = performance.now() - t
    console.log(
      `sent ${count} in ${(sendMs / 1000).toFixed(2)} s (${perRpc > 0 ? `${frames.length} RPCs of ${perRpc}` : 'one publish each'})`,
    )

    // judging is over when the counters have not moved for SETTLE_MS
    let last = -1
    let lastChange = performance.now()
    let counts: Record<string, number> = {}
    let pollFailures = 0
    for (;;) {
      if (daemon.child.exitCode !== null || daemon.child.signalCode !== null) {
        throw new Error(`the daemon exited during the flood; stderr:\n${daemon.stderr().slice(-2000)}`)
      }
      try {
        counts = await judged()
      } catch {
        // a daemon too busy to answer /metrics in time is part of what this measures
        pollFailures++
        continue
      }
      const n = total(counts)
      if (n !== last) {
        last = n
        lastChange = performance.now()
      } else if (performance.now() - lastChange >= SETTLE_MS) break
      if (performance.now() - t > 180_000) break
      await new Promise((r) => setTimeout(r, 200))
    }
    const judgingMs = lastChange - t
    sampler.stdin!.end()
    await new Promise((r) => sampler!.once('exit', r))

    const peer = JSON.parse(await get(`/api/defense/network/peers/${flooder.peerId}`)) as {
      gossipScore: number | null
    }
    const summary = (ms: number[]) => {
      const sorted = ms.slice().sort((a, b) => a - b)
      const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN
      return {
        samples: ms.length,
        maxMs: +Math.max(...ms).toFixed(1),
        p99Ms: +pct(0.99).toFixed(1),
        p50Ms: +pct(0.5).toFixed(1),
      }
    }
    const report = {
      alerts: count,
      sendSeconds: +(sendMs / 1000).toFixed(2),
      judgingSeconds: +(judgingMs / 1000).toFixed(2),
      judged: total(counts),
      metricsPollFailures: pollFailures,
      accepted: counts.accepted ?? 0,
      refused: Object.fromEntries(Object.entries(counts).filter(([k]) => k !== 'accepted')),
      healthzBeforeFlood: summary(baseline),
      healthz: { ...summary(latencies), failures, within200ms: Math.max(...latencies) <= 200 },
      flooderGossipScore: peer.gossipScore,
      flooderGraylisted: peer.gossipScore !== null && peer.gossipScore < SCORE_THRESHOLDS.graylistThreshold,
    }
    console.log(JSON.stringify(report, null, 2))
  } finally {
    if (sampler !== undefined && sampler.exitCode === null) sampler.kill()
    await flooder.stop()
    await stopProcess(daemon)
    await rm(dataDir, { recursive: true, force: true })
  }
}

/** The cache: a JSON line (key, time signed) then the alerts, each prefixed by its length (4 bytes). */
async function writeCache(path: string, secretKey: Uint8Array, batch: Uint8Array[]): Promise<void> {
  const head = Buffer.from(
    JSON.stringify({ key: Buffer.from(secretKey).toString('hex'), at: Date.now(), count: batch.length }) +
      '\n',
  )
  const parts: Buffer[] = [head]
  for (const b of batch) {
    const len = Buffer.alloc(4)
    len.writeUInt32BE(b.length)
    parts.push(len, Buffer.from(b))
  }
  await writeFile(path, Buffer.concat(parts))
}

async function readCache(
  path: string,
  count: number,
): Promise<{ secretKey: Uint8Array; batch: Uint8Array[] } | undefined> {
  let raw: Buffer
  try {
    raw = await readFile(path)
  } catch {
    return undefined
  }
  const nl = raw.indexOf(10)
  const head = JSON.parse(raw.subarray(0, nl).toString()) as { key: string; at: number; count: number }
  if (head.count !== count || Date.now() - head.at > 30 * 60_000) return undefined
  const batch: Uint8Array[] = []
  for (let i = nl + 1; i < raw.length;) {
    const len = raw.readUInt32BE(i)
    batch.push(new Uint8Array(raw.subarray(i + 4, i + 4 + len)))
    i += 4 + len
  }
  return { secretKey: Uint8Array.from(Buffer.from(head.key, 'hex')), batch }
}
