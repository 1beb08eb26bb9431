import { spawn } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { formatIp } from '../../protocol/indicator.ts'
import type { BlockEntry, BlockOrigin } from '../../node/blocklist/block-entry.ts'
import { NEVER, writeStoredEntries } from '../../node/blocklist/blocklist.ts'
import { openStore } from '../../node/store/open-store.ts'
import { mulberry32, randomInt } from '../../node/detect/features/prng.ts'

/**
 * A synthetic million-entry blocklist for the decision benchmarks: 90% IPv4 /32, 5% IPv4 /16–/30, 5% IPv6
 * /128 or /32–/64, 70% community (2–5 reporters from 300 peers, two reasons), 25% local, 5% manual, all
 * clear of the default allowlist, expiring 1–24 h from now. Written into a store the way a node stores its
 * blocklist (`writeStoredEntries`, batches of 10,000) by a child process, so the writer's memory (LevelDB's
 * write path keeps its malloc arenas) does not count against the process that then opens it as a restarted
 * daemon would. Deterministic: the same seed gives the same entries.
 */

const next = mulberry32(0x5eed)
const int = (n: number) => randomInt(next, n)

/** First octets clear of the default allowlist (private, loopback, CGNAT, link-local) and multicast. */
const PUBLIC_OCTETS = Array.from({ length: 223 }, (_, i) => i + 1).filter(
  (a) => ![10, 100, 127, 169, 172, 192].includes(a),
)

export function randomBytes(family: 4 | 6): Uint8Array {
  const b = new Uint8Array(family === 4 ? 4 : 16)
  for (let i = 0; i < b.length; i++) b[i] = int(256)
  if (family === 4) b[0] = PUBLIC_OCTETS[int(PUBLIC_OCTETS.length)]
  else b[0] = 0x20 | (b[0] & 0x0f) // global unicast 2000::/4
  return b
}

function mask(bytes: Uint8Array, prefix: number): Uint8Array {
  const out = bytes.slice()
  for (let i = 0; i < out.length; i++) {
    const keep = Math.min(8, Math.max(0, prefix - 8 * i))
    out[i] &= (0xff00 >> keep) & 0xff
  }
  return out
}

/** An address inside bytes/prefix (random host bits). */
function inside(bytes: Uint8Array, prefix: number): Uint8Array {
  const b = bytes.slice()
  for (let i = 0; i < b.length; i++) {
    const keep = Math.min(8, Math.max(0, prefix - 8 * i))
    b[i] = (b[i] & ((0xff00 >> keep) & 0xff)) | (int(256) & (0xff >> keep))
  }
  return b
}

const SCENARIOS = ['ssh-bf', 'http-crawl', 'http-probing', 'port-scan', 'smtp-spam', 'sqli', 'rdp-bf']
const PEERS = Array.from({ length: 300 }, (_, i) => {
  let id = '12D3KooW'
  while (id.length < 52) id += 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz123456789'[int(58)]
  return id.slice(0, 48) + String(i).padStart(4, '0')
})

/**
 * The entries, made as they are written so they are never all in memory at once; pushes up to `want`
 * addresses inside them (spread over the list) onto `probes`.
 */
function* generate(count: number, now: number, probes: string[], want: number): Generator<BlockEntry> {
  for (let i = 0; i < count; i++) {
    const r = next()
    const family = r < 0.95 ? 4 : 6
    const bits = family === 4 ? 32 : 128
    const prefix = r < 0.9 ? 32 : r < 0.95 ? 16 + int(15) : next() < 0.5 ? 128 : 32 + int(33)
    const bytes = mask(randomBytes(family), prefix)
    const isRange = prefix < bits
    const value = isRange ? `${formatIp(bytes)}/${prefix}` : formatIp(bytes)
    if (probes.length < want && next() < (want * 1.2) / count) probes.push(formatIp(inside(bytes, prefix)))
    const o = next()
    const origin: BlockOrigin = o < 0.7 ? 'community' : o < 0.95 ? 'local' : 'manual'
    const scenario = origin === 'manual' ? 'manual' : SCENARIOS[int(SCENARIOS.length)]
    const reporters =
      origin === 'community' ? Array.from({ length: 2 + int(4) }, () => PEERS[int(PEERS.length)]) : []
    const score = Math.round(600 + next() * 400) / 1000
    const reasons =
      origin === 'community'
        ? [
            `${reporters[0].slice(0, 16)}…: ${scenario}, ${5 + int(200)} events in ${10 + int(300)} s`,
            `blocked: ${reporters.length} trusted voices agree (score ${score})`,
          ]
        : origin === 'local'
          ? [`${5 + int(200)} failed logins in ${10 + int(300)} s from ${value}`]
          : ['blocked by an administrator']
    yield {
      id: i + 1,
      value,
      scope: isRange ? 'range' : 'ip',
      type: 'ban',
      origin,
      scenario,
      score,
      reasons,
      reporters,
      createdAt: now - int(3600_000),
      expiresAt: origin === 'manual' && next() < 0.5 ? NEVER : now + 3600_000 + int(23 * 3600_000),
      offence: 1 + int(3),
    }
  }
}

export interface SyntheticStore {
  written: number
  writeMs: number
  /** addresses inside entries: lookups that hit */
  probes: string[]
}

/**
 * Fills the store in `dir` (child process) with `count` entries; resolves once it is closed again. A `dir`
 * already filled with as many (its `synthetic.json` says so) is reused as it is.
 */
export async function writeSyntheticStore(
  dir: string,
  count: number,
  probes: number,
): Promise<SyntheticStore> {
  const done = await readFile(`${dir}/synthetic.json`, 'utf8').then(
    (text) => JSON.parse(text) as { count: number; probes: number; written: number; writeMs: number },
    () => undefined,
  )
  if (done?.count === count && done.probes === probes) {
    const kept = JSON.parse(await readFile(`${dir}/probes.json`, 'utf8')) as string[]
    return { written: done.written, writeMs: done.writeMs, probes: kept }
  }
  const child = spawn(
    process.execPath,
    [import.meta.filename, '--write', dir, String(count), String(probes)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  if (code !== 0) throw new Error(`the store writer exited with ${code}`)
  const { written, writeMs } = JSON.parse(out) as { written: number; writeMs: number }
  return { written, writeMs, probes: JSON.parse(await readFile(`${dir}/probes.json`, 'utf8')) as string[] }
}

if (process.argv[2] === '--write') {
  const [dir, count, want] = process.argv.slice(3)
  const store = await openStore(dir)
  const probes: string[] = []
  const t0 = performance.now()
  const written = await writeStoredEntries(store, generate(Number(count), Date.now(), probes, Number(want)))
  await store.close()
  const writeMs = performance.now() - t0
  await writeFile(`${dir}/probes.json`, JSON.stringify(probes))
  const record = { count: Number(count), probes: Number(want), written, writeMs }
  await writeFile(`${dir}/synthetic.json`, JSON.stringify(record))
  process.stdout.write(JSON.stringify(record))
}
