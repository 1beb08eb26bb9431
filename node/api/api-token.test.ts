import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { loadOrCreateToken, TOKEN_FILE } from './api-token.ts'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shieldwall-token-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('the api-token file', () => {
  it('generates a token when there is none and reads it back', async () => {
    const made = await loadOrCreateToken(dir)
    expect(made.created).toBe(true)
    const again = await loadOrCreateToken(dir)
    expect(again).toMatchObject({ token: made.token, created: false, source: 'file' })
  })

  it('refuses a file nobody could administer the node with, naming the file and the fix', async () => {
    const path = join(dir, TOKEN_FILE)
    const cases: Array<[string, string | Uint8Array]> = [
      ['empty', ''],
      ['whitespace only', '  \n\t\n'],
      [
        'binary',
        Uint8Array.from([
          0x73, 0x77, 0x5f, 0, 1, 2, 0xff, 0xfe, 0x80, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48,
        ]),
      ],
      ['5 characters', 'abcde\n'],
      ['inner whitespace', 'sw_abc defghijklmnop\n'],
    ]
    for (const [what, content] of cases) {
      await writeFile(path, content, { mode: 0o600 })
      const err = await loadOrCreateToken(dir).then(
        () => undefined,
        (e: Error) => e,
      )
      expect(err, what).toMatchObject({ name: 'InvalidTokenFileError' })
      expect(err!.message, what).toContain(path)
      expect(err!.message, what).toContain('16')
    }
  })

  it('accepts a token of 16 printable characters and trims the newline', async () => {
    await writeFile(join(dir, TOKEN_FILE), 'abcdefghijklmnop\n', { mode: 0o600 })
    expect((await loadOrCreateToken(dir)).token).toBe('abcdefghijklmnop')
  })
})

describe('creating the api-token file', () => {
  it('is not stopped or redirected by a file planted at the old predictable temp name', async () => {
    const { symlink, readFile: read } = await import('node:fs/promises')
    const victim = join(dir, 'victim')
    await writeFile(victim, 'precious\n', { mode: 0o600 })
    await symlink(victim, join(dir, `${TOKEN_FILE}.${process.pid}.tmp`))
    const made = await loadOrCreateToken(dir)
    expect(made.created).toBe(true)
    expect(await read(victim, 'utf8')).toBe('precious\n')
    expect((await read(join(dir, TOKEN_FILE), 'utf8')).trim()).toBe(made.token)
  })
})
