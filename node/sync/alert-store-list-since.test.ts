import { rm } from 'node:fs/promises'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { generateSecretKey } from '../../crypto/signing/ed25519.ts'
import { putSignedAlert } from '../../test/helpers/stored-alerts.ts'
import { tempDir } from '../../test/helpers/test-node.ts'
import { AlertStore } from '../alerts/alert-store.ts'
import { openStore, type Store } from '../store/open-store.ts'

const NOW = 1_780_000_000_000
const secretKey = generateSecretKey()

describe('AlertStore.listSince', () => {
  let dir: string
  let db: Store
  let store: AlertStore

  beforeEach(async () => {
    dir = await tempDir()
    db = await openStore(dir)
    store = new AlertStore(db)
    await store.open()
    // seq n arrives at NOW + n; every third one is already expired
    for (let n = 1; n <= 30; n++)
      await putSignedAlert(store, secretKey, n, NOW + n, n % 3 === 0 ? NOW : NOW + 3_600_000)
  })
  afterEach(async () => {
    await db.close()
    await rm(dir, { recursive: true, force: true })
  })

  async function pageAll(since: number, opts: { limit: number; maxScan?: number; maxBytes?: number }) {
    const seqs: number[] = []
    let cursor: string | undefined
    let pages = 0
    for (;;) {
      const page = await store.listSince(since, { ...opts, cursor, now: NOW + 100 })
      pages++
      expect(page.items.length).toBeLessThanOrEqual(opts.limit)
      seqs.push(...page.items.map((a) => a.seq))
      if (page.nextCursor === undefined) return { seqs, pages }
      cursor = page.nextCursor
      if (pages > 100) throw new Error('no progress')
    }
  }

  const unexpired = (from: number) =>
    Array.from({ length: 30 }, (_, i) => i + 1).filter((n) => n >= from && n % 3 !== 0)

  it('pages oldest arrival first from `since`, skipping expired alerts', async () => {
    expect((await pageAll(NOW + 10, { limit: 4 })).seqs).toEqual(unexpired(10))
    expect((await pageAll(0, { limit: 500 })).seqs).toEqual(unexpired(1))
    expect((await pageAll(NOW + 31, { limit: 10 })).seqs).toEqual([])
  })

  it('bounds the scan per page and still gets everything', async () => {
    const { seqs, pages } = await pageAll(0, { limit: 4, maxScan: 4 })
    expect(seqs).toEqual(unexpired(1))
    expect(pages).toBeGreaterThanOrEqual(8)
  })

  it('keeps a page under the byte budget', async () => {
    const one = (await store.listSince(0, { limit: 1, now: NOW })).items[0]
    const size = Buffer.byteLength(one.envelope, 'base64')
    const page = await store.listSince(0, { limit: 500, now: NOW + 100, maxBytes: size * 3 + 1 })
    expect(page.items).toHaveLength(3)
    expect(page.nextCursor).toBeDefined()
    expect((await pageAll(0, { limit: 500, maxBytes: size * 3 + 1 })).seqs).toEqual(unexpired(1))
  })
})
