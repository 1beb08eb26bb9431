import { formatIp } from '../../protocol/indicator.ts'
import type { BlockEntry } from '../../node/blocklist/block-entry.ts'
import { CidrTrie, type Prefix } from '../../node/blocklist/cidr-trie.ts'

/**
 * Blocklist lookups in-process: 1,000,000 random entries (90% IPv4 /32, 5% IPv4 /16–/30, 5% IPv6 /128 or
 * /32–/64) into a CidrTrie, then 2,000,000 lookups of addresses that are blocked and of addresses that are
 * not. Run with `node --expose-gc bench/decisions/lookup-bench.ts` for honest heap figures; BENCH_ENTRIES and
 * BENCH_LOOKUPS change the sizes. The second phase holds BlockEntry objects, as the Blocklist does.
 */
const ENTRIES = Number(process.env.BENCH_ENTRIES ?? 1_000_000)
const LOOKUPS = Number(process.env.BENCH_LOOKUPS ?? 2_000_000)
const gc = (globalThis as { gc?: () => void }).gc

let seed = 0x5eed
function next(): number {
  seed = (seed + 0x6d2b79f5) >>> 0
  let t = seed
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

function randomBytes(n: number): Uint8Array {
  const b = new Uint8Array(n)
  for (let i = 0; i < n; i++) b[i] = (next() * 256) | 0
  if (n === 16) b[0] = 0x20 | (b[0] & 0x0f) // global unicast 2000::/4
  return b
}

function randomPrefix(): Prefix {
  const r = next()
  if (r < 0.9) return { family: 4, bytes: randomBytes(4), prefix: 32 }
  if (r < 0.95) return { family: 4, bytes: randomBytes(4), prefix: 16 + ((next() * 15) | 0) }
  return { family: 6, bytes: randomBytes(16), prefix: next() < 0.5 ? 128 : 32 + ((next() * 33) | 0) }
}

/** An address inside the prefix (random host bits). */
function inside(p: Prefix): Uint8Array {
  const b = p.bytes.slice()
  for (let i = 0; i < b.length; i++) {
    const keep = Math.min(8, Math.max(0, p.prefix - 8 * i))
    b[i] = (b[i] & ((0xff00 >> keep) & 0xff)) | ((next() * 256) & (0xff >> keep))
  }
  return b
}

function mb(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MB`
}

function memory(): { heap: number; rss: number } {
  gc?.()
  const m = process.memoryUsage()
  return { heap: m.heapUsed + m.arrayBuffers, rss: m.rss }
}

function time<T>(fn: () => T): { ms: number; result: T } {
  const t0 = process.hrtime.bigint()
  const result = fn()
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, result }
}

function run<V>(label: string, value: (i: number, p: Prefix) => V): void {
  const prefixes: Prefix[] = Array.from({ length: ENTRIES }, randomPrefix)
  const start = memory()
  const values = prefixes.map((p, i) => value(i, p))
  const before = memory()
  const trie = new CidrTrie<V>()
  const build = time(() => {
    for (let i = 0; i < ENTRIES; i++) trie.set(prefixes[i], values[i])
  })
  const after = memory()

  // query sets, prepared outside the timed loops; strings as enforcers and APIs pass them
  const SET = 100_000
  const hits: string[] = []
  const hitBytes: Uint8Array[] = []
  while (hits.length < SET) {
    const b = inside(prefixes[(next() * ENTRIES) | 0])
    hits.push(formatIp(b))
    hitBytes.push(b)
  }
  const misses: string[] = []
  while (misses.length < SET) {
    const ip = formatIp(randomBytes(next() < 0.9 ? 4 : 16))
    if (!trie.covers(ip)) misses.push(ip)
  }

  const lookups = (set: string[] | Uint8Array[]) => {
    let found = 0
    for (let i = 0; i < LOOKUPS; i++) found += trie.covering(set[i % SET]).length > 0 ? 1 : 0
    return found
  }
  lookups(hits) // warm up
  const hit = time(() => lookups(hits))
  const hitB = time(() => lookups(hitBytes))
  const miss = time(() => lookups(misses))
  if (hit.result !== LOOKUPS || miss.result !== 0) throw new Error('lookup results are wrong')

  const line = (name: string, ms: number) =>
    `  ${name.padEnd(24)} ${Math.round(LOOKUPS / (ms / 1000))
      .toLocaleString('en-US')
      .padStart(12)} lookups/s  ${((ms * 1e6) / LOOKUPS).toFixed(0).padStart(5)} ns/lookup`
  process.stdout.write(
    [
      `${label}: ${trie.size.toLocaleString('en-US')} entries (${ENTRIES.toLocaleString('en-US')} inserted)`,
      `  build                    ${build.ms.toFixed(0)} ms (${Math.round(ENTRIES / (build.ms / 1000)).toLocaleString('en-US')} inserts/s)`,
      line('hits (string)', hit.ms),
      line('hits (bytes)', hitB.ms),
      line('misses (string)', miss.ms),
      `  index heap (typed arrays + slots, est.) ${mb(trie.footprint)}`,
      `  heap growth from build   ${mb(after.heap - before.heap)}${gc ? '' : ' (run with --expose-gc for exact figures)'}`,
      `  values themselves        ${mb(before.heap - start.heap)}`,
      `  process rss              ${mb(after.rss)} (includes this bench's inputs and query sets)`,
      '',
    ].join('\n'),
  )
}

process.stdout.write(`node ${process.version}, ${LOOKUPS.toLocaleString('en-US')} lookups per row\n\n`)
run('CidrTrie<number>', (i) => i)
gc?.()
const shared = { reasons: ['bench'], reporters: [] as string[] }
run('CidrTrie<BlockEntry> (the Blocklist index)', (i, p): BlockEntry => {
  const text = formatIp(p.bytes)
  const isRange = p.prefix < p.bytes.length * 8
  return {
    id: i + 1,
    value: isRange ? `${text}/${p.prefix}` : text,
    scope: isRange ? 'range' : 'ip',
    type: 'ban',
    origin: 'community',
    scenario: 'ssh-bf',
    score: 0.8,
    reasons: shared.reasons,
    reporters: shared.reporters,
    createdAt: 1_700_000_000_000,
    expiresAt: 1_700_000_000_000 + 4 * 3600_000,
    offence: 1,
  }
})
