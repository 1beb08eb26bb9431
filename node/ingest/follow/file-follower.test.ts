import { execFile } from 'node:child_process'
import { appendFileSync, closeSync, openSync, writeSync } from 'node:fs'
import {
  appendFile,
  mkdir,
  mkdtemp,
  rename,
  rm,
  rmdir,
  truncate,
  writeFile,
  copyFile,
} from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openStore, type Store } from '../../store/open-store.ts'
import { FileFollowerGroup } from './file-follower-group.ts'
import { fileFollower, type FileFollower, type FileFollowerInit, type LinesMeta } from './file-follower.ts'
import { LevelOffsetStore, type OffsetStore } from './offset-store.ts'

const POLL = 50
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Waits for `cond`; the timeout is only there to end a broken run, generous for a busy machine. */
async function until(cond: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const t0 = Date.now()
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(5)
  }
}

const numbered = (prefix: string, from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => `${prefix}-${from + i}`)
const asText = (lines: string[]) => lines.map((l) => `${l}\n`).join('')

let dir: string
let db: Store
let offsets: OffsetStore
let running: FileFollower[]

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shieldwall-follow-'))
  db = await openStore(join(dir, 'data'))
  offsets = new LevelOffsetStore(db)
  running = []
})

afterEach(async () => {
  await Promise.all(running.map((f) => f.stop()))
  await db.close()
  await rm(dir, { recursive: true, force: true })
})

/** A follower that records every delivered line (and checks that callbacks never overlap). */
async function follow(
  path: string,
  init: Partial<FileFollowerInit> = {},
  opts: { callbackMs?: number } = {},
) {
  const f = fileFollower({ path, pollIntervalMs: POLL, maxBackoffMs: 4 * POLL, ...init })({ offsets })
  const lines: string[] = []
  const metas: LinesMeta[] = []
  let inCallback = false
  let overlapped = false
  running.push(f)
  await f.start(async (batch, meta) => {
    if (inCallback) overlapped = true
    inCallback = true
    await sleep(opts.callbackMs ?? 0)
    lines.push(...batch)
    metas.push(meta)
    inCallback = false
  })
  const stop = async () => {
    await f.stop()
    running = running.filter((r) => r !== f)
    expect(overlapped).toBe(false)
  }
  return { f, lines, metas, stop }
}

describe('FileFollower', () => {
  // How soon a line arrives is a benchmark figure (bench/detect/live-node.ts prints the line-to-ban latency), not
  // a test bound: a busy machine would fail it.
  it('delivers appended lines (also from another process), in order, once; not what was there before', async () => {
    const path = join(dir, 'app.log')
    await writeFile(path, 'before-1\nbefore-2\n')
    const { f, lines } = await follow(path)

    await appendFile(path, 'live-0\n')
    await until(() => lines.length === 1, 'the first line')

    const want = ['live-0']
    for (let i = 0; i < 20; i++) {
      const batch = numbered(`burst${i}`, 0, 5)
      want.push(...batch)
      await appendFile(path, asText(batch))
    }
    await until(() => lines.length === want.length, 'the bursts')

    const child = numbered('child', 0, 50)
    want.push(...child)
    await promisify(execFile)(process.execPath, [
      '-e',
      `const fs = require('node:fs'); for (let i = 0; i < 50; i++) fs.appendFileSync(process.argv[1], 'child-' + i + '\\n')`,
      path,
    ])
    await until(() => lines.length === want.length, 'the lines the child process wrote')
    await sleep(3 * POLL)
    expect(lines).toEqual(want)
    expect(f.stats()).toMatchObject({ linesRead: want.length, rotations: 0, truncations: 0, errors: 0 })
  })

  it('holds a partial line until its newline arrives, and does not emit it on stop', async () => {
    const path = join(dir, 'app.log')
    await writeFile(path, '')
    const a = await follow(path)
    await appendFile(path, 'hello wor')
    await sleep(4 * POLL)
    expect(a.lines).toEqual([])
    await appendFile(path, 'ld\r\nsecond\nthird li')
    await until(() => a.lines.length === 2, 'the completed lines')
    await sleep(4 * POLL)
    expect(a.lines).toEqual(['hello world', 'second'])
    await a.stop()
    // the stored offset points at the start of the partial line
    expect((await offsets.get(path))?.offset).toBe('hello world\r\nsecond\n'.length)

    await appendFile(path, 'ne\n')
    const b = await follow(path)
    await until(() => b.lines.length === 1, 'the partial line completed while stopped')
    expect(b.lines).toEqual(['third line'])
  })

  it('rotation by rename: finishes the old file (even what is written to it after the rename), then reads the new one', async () => {
    const path = join(dir, 'app.log')
    await writeFile(path, '')
    const { f, lines } = await follow(path)
    const want: string[] = []

    for (let round = 0; round < 3; round++) {
      // the writer keeps its descriptor across the rename, like a daemon before logrotate's postrotate HUP
      const fd = openSync(path, 'a')
      for (let i = 0; i < 200; i++) {
        const line = `r${round}-old-${i}`
        want.push(line)
        writeSync(fd, `${line}\n`)
      }
      await rename(path, `${path}.1`)
      for (let i = 0; i < 20; i++) {
        const line = `r${round}-late-${i}`
        want.push(line)
        writeSync(fd, `${line}\n`)
      }
      // missing for a moment between rename and create
      await sleep(POLL)
      closeSync(fd)
      const fresh = numbered(`r${round}-new`, 0, 100)
      want.push(...fresh)
      await writeFile(path, asText(fresh))
      await until(() => lines.length === want.length, `round ${round}`)
    }
    await sleep(4 * POLL)
    expect(lines).toEqual(want)
    expect(f.stats().rotations).toBe(3)
  })

  it('truncation in place (copytruncate): reads on from the start, repeats nothing', async () => {
    const path = join(dir, 'app.log')
    await writeFile(path, '')
    const { f, lines } = await follow(path)
    await appendFile(path, asText(numbered('a', 0, 5)))
    await until(() => lines.length === 5, 'the first lines')

    // shorter than before
    await copyFile(path, `${path}.1`)
    await truncate(path, 0)
    await appendFile(path, asText(['b-0', 'b-1']))
    await until(() => lines.length === 7, 'lines after the first truncation')

    // truncated and at once rewritten longer than the old read position: only the changed first bytes tell
    await writeFile(path, asText(numbered('c-much-longer-than-before', 0, 10)))
    await until(() => lines.length === 17, 'lines after the second truncation')
    await sleep(4 * POLL)
    expect(lines).toEqual([
      ...numbered('a', 0, 5),
      'b-0',
      'b-1',
      ...numbered('c-much-longer-than-before', 0, 10),
    ])
    expect(f.stats().truncations).toBe(2)
  })

  it('restart: resumes exactly where it stopped, including across a rotation and a truncation while stopped', async () => {
    const path = join(dir, 'app.log')
    await writeFile(path, asText(numbered('pre', 0, 3)))
    // startAt 'end' applies only to a file never seen: the second follower resumes from the stored offset
    const a = await follow(path)
    await appendFile(path, asText(numbered('a', 0, 10)))
    await until(() => a.lines.length === 10, 'first run')
    await a.stop()

    await appendFile(path, asText(numbered('b', 0, 10)) + 'b-partial')
    const b = await follow(path)
    await until(() => b.lines.length === 10, 'second run')
    await sleep(4 * POLL)
    expect(b.lines).toEqual(numbered('b', 0, 10))
    await b.stop()

    // rotated while stopped, to logrotate's name; the old file's unterminated last line is delivered as it is
    await appendFile(path, '-done\n' + asText(numbered('c', 0, 5)) + 'c-unterminated')
    await rename(path, `${path}.1`)
    await writeFile(path, asText(numbered('d', 0, 5)))
    const c = await follow(path)
    const wantC = ['b-partial-done', ...numbered('c', 0, 5), 'c-unterminated', ...numbered('d', 0, 5)]
    await until(() => c.lines.length === wantC.length, 'third run')
    await sleep(4 * POLL)
    expect(c.lines).toEqual(wantC)
    expect(c.f.stats().rotations).toBe(1)
    await c.stop()

    // rotated while stopped to a dated name: found among the other files by dev/ino and head
    await appendFile(path, asText(numbered('e', 0, 5)))
    await rename(path, join(dir, 'app.log-20250102'))
    await writeFile(path, asText(numbered('f', 0, 5)))
    const d = await follow(path)
    await until(() => d.lines.length === 10, 'fourth run')
    await sleep(4 * POLL)
    expect(d.lines).toEqual([...numbered('e', 0, 5), ...numbered('f', 0, 5)])
    await d.stop()

    // truncated while stopped
    await writeFile(path, asText(['g-0']))
    const e = await follow(path)
    await until(() => e.lines.length === 1, 'fifth run')
    expect(e.lines).toEqual(['g-0'])
    expect(e.f.stats().truncations).toBe(1)
    await e.stop()

    // the offsets survive closing and reopening the store
    await db.close()
    db = await openStore(join(dir, 'data'))
    offsets = new LevelOffsetStore(db)
    await appendFile(path, asText(['h-0']))
    const g = await follow(path)
    await until(() => g.lines.length === 1, 'run after reopening the store')
    await sleep(4 * POLL)
    expect(g.lines).toEqual(['h-0'])
  })

  it('stop and restart while a writer keeps appending and the consumer is slow: every line exactly once', async () => {
    const path = join(dir, 'app.log')
    await writeFile(path, '')
    const total = 1500
    let writing = true
    const writer = (async () => {
      for (let i = 0; i < total; i += 5) {
        await appendFile(path, asText(numbered('w', i, i + 5)))
        if (i % 50 === 0) await sleep(1)
      }
      writing = false
    })()
    const a = await follow(path, { startAt: 'beginning' }, { callbackMs: 3 })
    await until(() => a.lines.length >= 300, 'some lines before the stop')
    // most likely inside a callback: stop waits for it and for its offset to be stored
    await a.stop()
    const atStop = a.lines.length
    await sleep(3 * POLL)
    expect(a.lines.length).toBe(atStop)
    const b = await follow(path, {}, { callbackMs: 3 })
    await writer
    expect(writing).toBe(false)
    await until(() => a.lines.length + b.lines.length === total, 'all lines over both runs')
    await sleep(4 * POLL)
    expect([...a.lines, ...b.lines]).toEqual(numbered('w', 0, total))
  })

  it('cuts a 1 MB line without newline, counts it, and goes on with the next lines (also across a restart)', async () => {
    const path = join(dir, 'app.log')
    await writeFile(path, '')
    const a = await follow(path)
    await appendFile(path, 'x'.repeat(1024 * 1024))
    await until(() => a.lines.length === 1, 'the cut line')
    expect(a.lines[0]).toBe('x'.repeat(64 * 1024))
    await appendFile(path, 'x'.repeat(100_000) + '\nafter-0\nafter-1\n')
    await until(() => a.lines.length === 3, 'the lines after it')
    expect(a.lines.slice(1)).toEqual(['after-0', 'after-1'])
    expect(a.f.stats().longLines).toBe(1)

    // stopped inside the skipped tail of a cut line: the tail is still skipped after the restart
    for (let i = 0; i < 10; i++) await appendFile(path, 'y'.repeat(100_000))
    await until(() => a.lines.length === 4, 'the second cut line')
    await sleep(2 * POLL)
    await a.stop()
    await appendFile(path, 'y'.repeat(100_000) + '\nafter-2\n')
    const b = await follow(path)
    await until(() => b.lines.length === 1, 'the line after the second long one')
    await sleep(4 * POLL)
    expect(b.lines).toEqual(['after-2'])
  })

  it('waits for a missing file and reads it from the start when it appears; a directory is a counted error', async () => {
    const path = join(dir, 'later.log')
    const a = await follow(path)
    await sleep(3 * POLL)
    await writeFile(path, asText(['first', 'second']))
    await until(() => a.lines.length === 2, 'the lines of the new file')
    expect(a.lines).toEqual(['first', 'second'])
    expect(a.f.stats().errors).toBe(0)

    const dirPath = join(dir, 'is-a-dir.log')
    await mkdir(dirPath)
    const b = await follow(dirPath)
    await until(() => b.f.stats().errors >= 2, 'errors to be counted and retried')
    await rmdir(dirPath)
    await writeFile(dirPath, asText(['now-a-file']))
    await until(() => b.lines.length === 1, 'the file that replaced the directory')
    expect(b.lines).toEqual(['now-a-file'])
  })

  it('backpressure: a failing callback gets the same batch again; offsets advance only after success', async () => {
    const path = join(dir, 'app.log')
    await writeFile(path, asText(numbered('l', 0, 3)))
    const f = fileFollower({ path, pollIntervalMs: POLL, maxBackoffMs: 2 * POLL, startAt: 'beginning' })({
      offsets,
    })
    running.push(f)
    const got: string[][] = []
    let fail = 2
    await f.start(async (batch) => {
      got.push(batch)
      if (fail-- > 0) throw new Error('consumer down')
    })
    await until(() => f.stats().linesRead === 3, 'two failures and a success')
    await f.stop()
    expect(got).toEqual([numbered('l', 0, 3), numbered('l', 0, 3), numbered('l', 0, 3)])
    expect(f.stats()).toMatchObject({ linesRead: 3, errors: 2 })
    expect((await offsets.get(path))?.offset).toBe(asText(numbered('l', 0, 3)).length)
  })

  it('hands the consumer the record it stores after the batch, to commit with the results in one batch', async () => {
    const path = join(dir, 'app.log')
    await writeFile(path, asText(numbered('l', 0, 3)))
    const f = fileFollower({ path, pollIntervalMs: POLL, startAt: 'beginning' })({ offsets })
    running.push(f)
    const results = db.sublevel<string, string>('results', { valueEncoding: 'utf8' })
    const metas: LinesMeta[] = []
    const storedDuring: (number | undefined)[] = []
    await f.start(async (batch, meta) => {
      metas.push(meta)
      storedDuring.push((await offsets.get(path))?.offset)
      await db.batch([
        { type: 'put', sublevel: results, key: String(meta.offset), value: batch.join(',') },
        (offsets as LevelOffsetStore).putOp(meta.path, meta.record),
      ])
    })
    await until(() => f.stats().linesRead === 3, 'the lines')
    await appendFile(path, asText(numbered('l', 3, 5)))
    await until(() => f.stats().linesRead === 5, 'the appended lines')
    await f.stop()
    expect(metas.map((m) => m.record.offset)).toEqual(metas.map((m) => m.offset))
    // while a batch is handled the store still says where it began: the follower writes only afterwards
    expect(storedDuring).toEqual([0, asText(numbered('l', 0, 3)).length])
    // and what it writes then is the record the consumer already committed
    expect(await offsets.get(path)).toEqual(metas.at(-1)!.record)
    expect(metas.at(-1)!.offset).toBe(asText(numbered('l', 0, 5)).length)
  })

  it('reads a large file from the beginning across chunk boundaries without losing or repeating a line', async () => {
    const path = join(dir, 'big.log')
    const n = 50_000
    await writeFile(path, asText(numbered('line-with-some-padding-to-make-it-longer', 0, n)))
    const { f, lines } = await follow(path, { startAt: 'beginning', readChunkBytes: 16_411 })
    await until(() => lines.length === n, 'all lines', 60_000)
    expect(lines[0]).toBe('line-with-some-padding-to-make-it-longer-0')
    expect(lines.every((l, i) => l === `line-with-some-padding-to-make-it-longer-${i}`)).toBe(true)
    expect(f.stats().bytesRead).toBe(
      asText(numbered('line-with-some-padding-to-make-it-longer', 0, n)).length,
    )
  }, 120_000)
})

describe('FileFollowerGroup', () => {
  it('follows several files into one callback, each batch with its path', async () => {
    const p1 = join(dir, 'a.log')
    const p2 = join(dir, 'b.log')
    await writeFile(p1, '')
    await writeFile(p2, '')
    const group = new FileFollowerGroup(
      { sources: [{ path: p1 }, { path: p2, maxLineBytes: 4 }], defaults: { pollIntervalMs: POLL } },
      { offsets },
    )
    const got: Record<string, string[]> = {}
    await group.start((lines, meta) => {
      ;(got[meta.path] ??= []).push(...lines)
    })
    try {
      appendFileSync(p1, 'one\ntwo\n')
      appendFileSync(p2, 'three\n')
      await until(() => got[p1]?.length === 2 && got[p2]?.length === 1, 'lines from both files')
      expect(got).toEqual({ [p1]: ['one', 'two'], [p2]: ['thre'] })
      expect(group.stats()[p2].longLines).toBe(1)
    } finally {
      await group.stop()
    }
    expect(
      () => new FileFollowerGroup({ sources: [{ path: p1 }, { path: p1 }], defaults: {} }, { offsets }),
    ).toThrow(expect.objectContaining({ name: 'InvalidFileFollowerInitError' }))
  })
})
