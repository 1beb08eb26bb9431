import { mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { writeFileAtomic } from './write-file-atomic.ts'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shieldwall-atomic-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('writeFileAtomic', () => {
  it('writes the file with the mode asked for and leaves no temp file', async () => {
    const file = join(dir, 'out.txt')
    await writeFileAtomic(file, 'hello\n', { mode: 0o640 })
    expect(await readFile(file, 'utf8')).toBe('hello\n')
    expect((await stat(file)).mode & 0o777).toBe(0o640)
    expect(await readdir(dir)).toEqual(['out.txt'])
  })

  it('never writes through a symlink planted at a guessed temp name', async () => {
    const victim = join(dir, 'victim')
    await writeFile(victim, 'precious\n', { mode: 0o600 })
    const file = join(dir, 'out.txt')
    await symlink(victim, join(dir, '.out.txt.guessed.tmp'))
    const names = ['guessed', 'fresh']
    await writeFileAtomic(file, 'export\n', { randomName: () => names.shift()! })
    expect(await readFile(victim, 'utf8')).toBe('precious\n')
    expect(await readFile(file, 'utf8')).toBe('export\n')
  })

  it('gives up with a named error when every name tried exists', async () => {
    const victim = join(dir, 'victim')
    await writeFile(victim, 'precious\n', { mode: 0o600 })
    await symlink(victim, join(dir, '.out.txt.same.tmp'))
    await expect(
      writeFileAtomic(join(dir, 'out.txt'), 'x', { randomName: () => 'same' }),
    ).rejects.toMatchObject({ name: 'AtomicWriteError' })
    expect(await readFile(victim, 'utf8')).toBe('precious\n')
  })
})
