import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { silentLogger } from '../logging/logger.ts'
import { certainlyLive, checkStoreAfterRestart, summarizeBlocklist, writeStoreCheck } from './store-check.ts'

const HOUR = 3_600_000
const NEVER = Number.MAX_SAFE_INTEGER

describe('store check', () => {
  it('counts only entries certainly still live: never-expiring ones and whole hours ahead', () => {
    const now = 100 * HOUR
    const summary = summarizeBlocklist([NEVER, now + 10, now + 2 * HOUR + 5, now + 3 * HOUR, now - 5], NEVER)
    expect(summary.total).toBe(5)
    expect(summary.neverExpires).toBe(1)
    // the entry expiring 10 ms after `now` shares its hour with `now`: not counted, it may be gone at restart
    expect(certainlyLive(summary, now)).toBe(3)
    expect(certainlyLive(summary, now + 4 * HOUR)).toBe(1)
  })

  it('is read once: a later crash is never compared with an older clean stop', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shieldwall-check-'))
    try {
      await writeStoreCheck(dir, {
        version: 1,
        writtenAt: 0,
        blocklist: summarizeBlocklist([NEVER, NEVER], NEVER),
      })
      expect(await checkStoreAfterRestart(dir, 0, 1, silentLogger())).toBe(2)
      expect(await readdir(dir)).toEqual([])
      expect(await checkStoreAfterRestart(dir, 0, 1, silentLogger())).toBe(0)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
