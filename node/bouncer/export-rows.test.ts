import { describe, expect, it } from 'vitest'
import type { BlockOrigin } from '../blocklist/block-entry.ts'
import {
  EXPORT_FORMATS,
  exportChunks,
  formatTimeouts,
  type ExportFormat,
  type ExportOptions,
} from '../blocklist/exporters.ts'
import { exportBlocklist as wholeStringExport } from '../blocklist/test-fixtures/whole-string-exporters.ts'
import { ChangeJournal } from './change-journal.ts'
import { SnapshotCache } from './decision-snapshot.ts'
import { snapshotExportRows } from './export-rows.ts'
import { MemoryBlocklist } from './memory-blocklist.ts'

const T0 = Date.UTC(2025, 0, 1)

/** A small deterministic generator, so a failure names the seed that shows it. */
function random(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

function randomValue(r: () => number): string {
  const byte = () => Math.floor(r() * 4) // few distinct bytes: many nested and duplicate ranges
  if (r() < 0.7) {
    const prefixes = [32, 32, 32, 24, 16, 8, 0]
    const prefix = prefixes[Math.floor(r() * prefixes.length)]
    return `10.${byte()}.${byte()}.${byte()}/${prefix}`
  }
  const prefixes = [128, 128, 64, 48, 32]
  return `2001:db8:${byte()}::${byte()}/${prefixes[Math.floor(r() * prefixes.length)]}`
}

const ORIGINS: BlockOrigin[] = ['local', 'community', 'manual']

async function lazyExport(
  cache: SnapshotCache,
  list: MemoryBlocklist,
  format: ExportFormat,
  options: ExportOptions & { origin?: BlockOrigin },
): Promise<string> {
  const prepared = formatTimeouts(format, options)
  const rows = await snapshotExportRows(cache.read(), list, prepared)
  let text = ''
  for (const chunk of exportChunks(format, rows!, prepared)) text += chunk
  return text
}

describe('snapshotExportRows', () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`writes exactly what the whole-string exporters wrote, from the shared snapshot and the changes after it (seed ${seed})`, async () => {
      const r = random(seed)
      let now = T0
      const clock = () => now
      const list = new MemoryBlocklist({ clock })
      const journal = new ChangeJournal({ capacity: 10_000, clock })
      journal.follow(list)
      const cache = new SnapshotCache(list, journal, { clock, maxLag: 100_000 })
      const block = () => {
        try {
          list.block({
            value: randomValue(r),
            origin: ORIGINS[Math.floor(r() * 3)],
            durationMs: r() < 0.1 ? 200 * 365 * 86_400_000 : Math.floor(r() * 7200_000) + 1,
          })
        } catch {
          // a value the generator spelled non-canonically is still canonicalised; nothing else throws
        }
      }
      for (let i = 0; i < 300; i++) block()
      cache.current() // the snapshot
      // after it: additions, renewals (same value, new id), removals, and time passing (expiries)
      for (let i = 0; i < 60; i++) block()
      for (const entry of [...list.entries()].slice(0, 20)) list.unblock(entry.value)
      now += 1800_000

      for (const format of EXPORT_FORMATS) {
        for (const timeouts of [false, true]) {
          for (const origin of [undefined, 'community'] as const) {
            const options = { now, timeouts, ...(format === 'nft' ? { name: 'sw' } : {}) }
            const entries = [...list.entries()].filter((e) => origin === undefined || e.origin === origin)
            const expected = wholeStringExport(format, entries, options)
            const lazy = await lazyExport(cache, list, format, { ...options, ...(origin ? { origin } : {}) })
            expect(lazy, `${format} timeouts=${timeouts} origin=${origin}`).toBe(expected)
          }
        }
      }
      expect(cache.builds).toBe(1)
    })
  }

  it('writes what it counted when an entry is removed between counting and writing', async () => {
    const list = new MemoryBlocklist({ clock: () => T0 })
    const journal = new ChangeJournal({ clock: () => T0 })
    journal.follow(list)
    const cache = new SnapshotCache(list, journal, { clock: () => T0 })
    list.block({ value: '192.0.2.1', durationMs: 60_000 })
    list.block({ value: '192.0.2.2', durationMs: 60_000 })
    const options = { now: T0, timeouts: true }
    const rows = (await snapshotExportRows(cache.read(), list, options))!
    list.unblock('192.0.2.2')
    expect([rows.v4, rows.v6]).toEqual([2, 0])
    expect([...rows.rows(4)].map((row) => [row.value, row.timeout])).toEqual([
      ['192.0.2.1', 60],
      ['192.0.2.2', 1],
    ])
  })
})
