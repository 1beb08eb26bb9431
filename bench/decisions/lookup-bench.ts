import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { formatIp } from '../../protocol/indicator.ts'
import { blocklist } from '../../node/blocklist/blocklist.ts'
import { openStore } from '../../node/store/open-store.ts'
import { randomBytes, writeSyntheticStore } from './synthetic-blocklist.ts'

/**
 * The node's real Blocklist with 1,000,000 entries (`synthetic-blocklist.ts`: 90% IPv4 /32, 5% IPv4 CIDRs,
 * 5% IPv6, realistic reasons and reporters), loaded the way a restarted daemon loads it: written to a level
 * store in batches of 10,000 by a child process, then `open()` here. Prints the build
 * time, ns per `lookup()` for blocked and unblocked addresses, the heap (after GC, typed arrays included) and
 * RSS, and PASS/FAIL against 200 MB for both.
 *
 * `node --expose-gc bench/decisions/lookup-bench.ts`; BENCH_ENTRIES and BENCH_LOOKUPS change the sizes, and
 * BENCH_STORE=<dir> keeps the written store there and reuses it on later runs (skipping the write).
 */
const ENTRIES = Number(process.env.BENCH_ENTRIES ?? 1_000_000)
const LOOKUPS = Number(process.env.BENCH_LOOKUPS ?? 1_000_000)
const QUERY_SET = 100_000
const LIMIT_MB = 200
const gc = (globalThis as { gc?: () => void }).gc

function mb(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MB`
}

interface Memory {
  heap: number
  rss: number
  /** private (anonymous) resident memory; rss minus file-backed pages (LevelDB maps its table files) */
  anon: number
  file: number
}

/** /proc/self/status figures in bytes (Linux), or undefined elsewhere. */
async function procStatus(): Promise<Record<string, number> | undefined> {
  try {
    const text = await readFile('/proc/self/status', 'utf8')
    const out: Record<string, number> = {}
    for (const m of text.matchAll(/^(\w+):\s+(\d+) kB$/gm)) out[m[1]] = Number(m[2]) * 1024
    return out
  } catch {
    return undefined
  }
}

/** After a full GC and a moment for V8 to hand freed pages back, as a daemon settles after loading. */
async function memory(): Promise<Memory> {
  gc?.()
  await new Promise((r) => setTimeout(r, 500))
  gc?.()
  const m = process.memoryUsage()
  const status = await procStatus()
  return {
    heap: m.heapUsed + m.arrayBuffers,
    rss: m.rss,
    anon: status?.RssAnon ?? m.rss,
    file: status?.RssFile ?? 0,
  }
}

function time<T>(fn: () => T): { ms: number; result: T } {
  const t0 = process.hrtime.bigint()
  const result = fn()
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, result }
}

async function main(): Promise<void> {
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')
  process.stdout.write(
    `node ${process.version}, load average ${load}, ${LOOKUPS.toLocaleString('en-US')} lookups per row\n`,
  )
  if (gc === undefined) process.stdout.write('(run with --expose-gc for exact heap figures)\n')
  const keep = process.env.BENCH_STORE
  const dir = keep ?? (await mkdtemp(join(tmpdir(), 'shieldwall-lookup-bench-')))
  const { written, writeMs, probes } = await writeSyntheticStore(dir, ENTRIES, QUERY_SET)
  const store = await openStore(dir)
  try {
    const before = await memory()
    const list = blocklist()({ store })
    const t1 = performance.now()
    await list.open()
    const openMs = performance.now() - t1
    const after = await memory()

    // query sets, prepared outside the timed loops; strings as enforcers and APIs pass them
    const hits = probes
    const misses: string[] = []
    while (misses.length < hits.length) {
      const ip = formatIp(randomBytes(misses.length % 20 === 0 ? 6 : 4))
      if (list.lookup(ip).length === 0) misses.push(ip)
    }
    const set = hits.length
    const lookups = (queries: string[]) => {
      let found = 0
      for (let i = 0; i < LOOKUPS; i++) found += list.lookup(queries[i % set]).length > 0 ? 1 : 0
      return found
    }
    const values = Array.from(list.recent({ limit: set }).entries, (e) => e.value)
    const gets = () => {
      let found = 0
      for (let i = 0; i < LOOKUPS; i++) found += list.get(values[i % values.length]) !== undefined ? 1 : 0
      return found
    }
    lookups(hits) // warm up
    lookups(misses)
    const hit = time(() => lookups(hits))
    const miss = time(() => lookups(misses))
    const get = time(gets)
    if (hit.result !== LOOKUPS || miss.result !== 0 || get.result !== LOOKUPS)
      throw new Error(
        `lookup results are wrong: ${hit.result} hits, ${miss.result} misses, ${get.result} gets`,
      )
    const end = await memory()

    const row = (name: string, ms: number) =>
      `  ${name.padEnd(26)} ${((ms * 1e6) / LOOKUPS).toFixed(0).padStart(5)} ns/lookup  ` +
      `(${Math.round(LOOKUPS / (ms / 1000)).toLocaleString('en-US')}/s)`
    const verdict = (bytes: number) => (bytes < LIMIT_MB * 1048576 ? 'PASS' : 'FAIL')
    process.stdout.write(
      [
        `Blocklist: ${list.size.toLocaleString('en-US')} entries (${written.toLocaleString('en-US')} written)`,
        `  build: level write ${(writeMs / 1000).toFixed(1)} s (batches of 10,000), open() ${(openMs / 1000).toFixed(1)} s`,
        row('lookup hit (string)', hit.ms),
        row('lookup miss (string)', miss.ms),
        row('get exact value', get.ms),
        `  index (trie + columns, est.)   ${mb(list.footprint)}`,
        `  heap growth from open()        ${mb(after.heap - before.heap)}`,
        `  heapUsed+arrayBuffers after GC ${mb(after.heap)} (whole process; ${mb(end.heap)} after the lookups)`,
        `  rss                            ${mb(after.rss)} = ${mb(after.anon)} private + ${mb(after.file)} file-backed ` +
          `(LevelDB's mapped table files, page cache); ${mb(end.rss)} = ${mb(end.anon)} + ${mb(end.file)} after the lookups`,
        `  ${verdict(after.heap)} heap < ${LIMIT_MB} MB; ${verdict(after.anon)} private rss < ${LIMIT_MB} MB; ` +
          `${verdict(after.rss)} total rss < ${LIMIT_MB} MB`,
        JSON.stringify({
          entries: list.size,
          writeMs: Math.round(writeMs),
          openMs: Math.round(openMs),
          hitNs: Math.round((hit.ms * 1e6) / LOOKUPS),
          missNs: Math.round((miss.ms * 1e6) / LOOKUPS),
          getNs: Math.round((get.ms * 1e6) / LOOKUPS),
          heapMB: +(after.heap / 1048576).toFixed(1),
          heapGrowthMB: +((after.heap - before.heap) / 1048576).toFixed(1),
          rssMB: +(after.rss / 1048576).toFixed(1),
          rssAnonMB: +(after.anon / 1048576).toFixed(1),
          rssFileMB: +(after.file / 1048576).toFixed(1),
          load: loadavg()[0],
        }),
        '',
      ].join('\n'),
    )
    if (verdict(after.heap) === 'FAIL') process.exitCode = 1
    await list.stop()
  } finally {
    await store.close()
    if (keep === undefined) await rm(dir, { recursive: true, force: true })
  }
}

await main()
