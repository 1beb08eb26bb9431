import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { execFile } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ensureDataDir, openStore } from './open-store.ts'
import { startTestNode } from '../../test/helpers/test-node.ts'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shieldwall-store-'))
})
afterEach(async () => {
  await chmod(dir, 0o700).catch(() => {})
  await rm(dir, { recursive: true, force: true })
})

async function failure(p: Promise<unknown>): Promise<Error> {
  return p.then(
    () => {
      throw new Error('expected a failure')
    },
    (err: Error) => err,
  )
}

describe('openStore errors', () => {
  it('asks about another node only when the store is locked', async () => {
    const first = await openStore(dir)
    try {
      const err = await failure(openStore(dir))
      expect(err.name).toBe('StoreOpenError')
      expect(err.message).toContain('is another shieldwall node running')
    } finally {
      await first.close()
    }
  })

  it('does not blame another node for a damaged store', async () => {
    await (await openStore(dir)).close()
    await writeFile(join(dir, 'db', 'CURRENT'), 'garbage\n')
    const err = await failure(openStore(dir))
    expect(err.name).toBe('StoreOpenError')
    expect(err.message).toContain(join(dir, 'db'))
    expect(err.message).not.toContain('another shieldwall node')
  })

  it('names the path when the data dir is a file', async () => {
    const file = join(dir, 'not-a-dir')
    await writeFile(file, 'x')
    const attempts = [
      () => openStore(file),
      () => ensureDataDir(file),
      () => ensureDataDir(join(file, 'below')),
    ]
    for (const attempt of attempts) {
      const err = await failure(attempt())
      expect(err.name).toBe('DataDirError')
      expect(err.message).toContain(`${file} is in the way and is not a directory`)
    }
  })

  it.skipIf(process.getuid?.() === 0)('names the path when the data dir is read-only', async () => {
    const ro = join(dir, 'ro')
    await mkdir(ro, { mode: 0o500 })
    const err = await failure(ensureDataDir(ro))
    expect(err.name).toBe('DataDirError')
    expect(err.message).toContain(ro)
    expect(err.message).toContain('permission')
  })

  it.runIf(process.getuid?.() === 0)(
    'names the path when the data dir is not writable by the user (as root: checked from a child as nobody)',
    async () => {
      const ro = join(dir, 'root-owned')
      await mkdir(ro, { mode: 0o755 })
      await chmod(dir, 0o755)
      const module = pathToFileURL(join(import.meta.dirname, 'open-store.ts')).href
      const script =
        `const { ensureDataDir } = await import(${JSON.stringify(module)});` +
        `try { await ensureDataDir(${JSON.stringify(ro)}); console.log('{}') }` +
        `catch (e) { console.log(JSON.stringify({ name: e.name, message: e.message })) }`
      const out = await new Promise<string>((resolve, reject) => {
        execFile(
          process.execPath,
          ['--input-type=module', '-e', script],
          { uid: 65534, gid: 65534, cwd: tmpdir() },
          (err, stdout) => (err ? reject(err) : resolve(stdout)),
        )
      })
      const result = JSON.parse(out)
      expect(result.name).toBe('DataDirError')
      expect(result.message).toContain(ro)
      expect(result.message).toContain('no permission')
    },
  )

  it('a node whose data dir is a file stops with that error before creating anything', async () => {
    const file = join(dir, 'data')
    await writeFile(file, 'x')
    const err = await failure(startTestNode({ dataDir: file }))
    expect(err.name).toBe('DataDirError')
    expect(err.message).toContain(file)
    expect(await readdir(dir)).toEqual(['data'])
  })

  it('leaves no probe file behind in a writable data dir', async () => {
    await ensureDataDir(join(dir, 'data'))
    expect(await readdir(join(dir, 'data'))).toEqual([])
  })
})
