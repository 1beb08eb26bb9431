import { rm } from 'node:fs/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { tempDir } from '../../test/helpers/test-node.ts'
import { openStore, type Store } from '../store/open-store.ts'
import { catchUpSince, SyncWatermark } from './sync-watermark.ts'

const opts = { marginMs: 600_000, lookbackMs: 86_400_000 }

describe('catchUpSince', () => {
  const now = 10 * 86_400_000
  it('starts a margin before the watermark', () => {
    expect(catchUpSince(now - 3_600_000, now, opts)).toBe(now - 3_600_000 - 600_000)
  })
  it('never reaches back past the lookback, nor before the epoch', () => {
    expect(catchUpSince(now - 5 * 86_400_000, now, opts)).toBe(now - 86_400_000)
    expect(catchUpSince(undefined, now, opts)).toBe(now - 86_400_000)
    expect(catchUpSince(undefined, 1000, opts)).toBe(0)
  })
})

describe('SyncWatermark', () => {
  let dir: string
  let db: Store
  afterEach(async () => {
    await db?.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('persists, and only moves forward', async () => {
    dir = await tempDir()
    db = await openStore(dir)
    const w = new SyncWatermark(db)
    await w.open()
    expect(w.value).toBeUndefined()
    await w.raise(2000)
    await w.raise(1000)
    expect(w.value).toBe(2000)
    const again = new SyncWatermark(db)
    await again.open()
    expect(again.value).toBe(2000)
  })
})
