/**
 * Follower throughput: a file of 100-byte lines (50 MB by default) in a temp dir, read from the beginning by a
 * FileFollower into a callback that only counts, with the offset stored in a real level store after every batch.
 * Prints MB/s and lines/s per run.
 *
 *   npx node node/ingest/follow/bench/follow-bench.ts [megabytes=50] [runs=3]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openStore } from '../../../store/open-store.ts'
import { fileFollower } from '../file-follower.ts'
import { LevelOffsetStore } from '../offset-store.ts'

const MB = Number(process.argv[2] ?? 50)
const RUNS = Number(process.argv[3] ?? 3)
const LINE = 100

const dir = await mkdtemp(join(tmpdir(), 'shieldwall-follow-bench-'))
try {
  const lines = Math.floor((MB * 1_000_000) / LINE)
  const pad = 'x'.repeat(LINE)
  const body = Buffer.alloc(lines * LINE)
  for (let i = 0; i < lines; i++) {
    const head = `Jan  1 00:00:00 host sshd[1234]: Failed password for root from 10.0.0.1 port ${i} ssh2 `
    body.write((head + pad).slice(0, LINE - 1) + '\n', i * LINE, 'latin1')
  }
  const path = join(dir, 'bench.log')
  await writeFile(path, body)
  const db = await openStore(join(dir, 'data'))
  const offsets = new LevelOffsetStore(db)
  for (let run = 0; run < RUNS; run++) {
    await offsets.delete(path)
    const f = fileFollower({ path, startAt: 'beginning' })({ offsets })
    let count = 0
    let done!: () => void
    const finished = new Promise<void>((r) => (done = r))
    const t0 = performance.now()
    await f.start((batch) => {
      count += batch.length
      if (count === lines) done()
    })
    await finished
    const s = (performance.now() - t0) / 1000
    await f.stop()
    console.log(
      `run ${run + 1}: ${lines} lines, ${(body.length / 1e6).toFixed(0)} MB in ${s.toFixed(3)} s = ` +
        `${(body.length / 1e6 / s).toFixed(0)} MB/s, ${(lines / s / 1e6).toFixed(2)} M lines/s`,
    )
  }
  await db.close()
} finally {
  await rm(dir, { recursive: true, force: true })
}
