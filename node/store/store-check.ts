import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileAtomic } from '../cli/write-file-atomic.ts'
import type { Logger } from '../logging/logger.ts'

/**
 * LevelDB replays its write-ahead log at open and, by design, treats a log that ends early as a crash in the
 * middle of a write: whatever was after the cut is gone without an error. A log truncated by half (a full disk,
 * a bad copy, a restore gone wrong) so opens as a store that silently lost most of its recent writes. A clean
 * stop therefore leaves what the blocklist held beside the store, and the next start compares: fewer entries
 * than must still be live is reported loudly. Nothing is deleted or rewritten: the operator decides.
 */

export const STORE_CHECK_FILE = 'store-check.json'

/** Expiries are counted per hour: small on disk whatever the blocklist's size, and exact enough to compare. */
const BUCKET_MS = 3_600_000

export interface StoreCheck {
  version: 1
  writtenAt: number
  blocklist: {
    total: number
    /** [start of the hour, entries expiring in it]; entries that never expire are counted in `neverExpires` */
    expiries: Array<[number, number]>
    neverExpires: number
  }
}

/** What a clean stop records about the blocklist's live entries. */
export function summarizeBlocklist(expiries: Iterable<number>, never: number): StoreCheck['blocklist'] {
  const buckets = new Map<number, number>()
  let total = 0
  let neverExpires = 0
  for (const expiresAt of expiries) {
    total++
    if (expiresAt >= never) neverExpires++
    else {
      const hour = Math.floor(expiresAt / BUCKET_MS) * BUCKET_MS
      buckets.set(hour, (buckets.get(hour) ?? 0) + 1)
    }
  }
  return { total, expiries: [...buckets].sort((a, b) => a[0] - b[0]), neverExpires }
}

/**
 * Entries of the recorded blocklist that are certainly still live at `now`: those that never expire and those
 * whose whole expiry hour is still ahead. A lower bound, so an honest store is never reported.
 */
export function certainlyLive(check: StoreCheck['blocklist'], now: number): number {
  let live = check.neverExpires
  for (const [hour, count] of check.expiries) if (hour > now) live += count
  return live
}

export async function writeStoreCheck(dataDir: string, check: StoreCheck): Promise<void> {
  await writeFileAtomic(join(dataDir, STORE_CHECK_FILE), JSON.stringify(check) + '\n', { mode: 0o600 })
}

/**
 * Reads and removes the record of the last clean stop (removed so a later crash, which writes none, is never
 * compared with an older one). Undefined when there is none or it is unreadable.
 */
export async function takeStoreCheck(dataDir: string): Promise<StoreCheck | undefined> {
  const path = join(dataDir, STORE_CHECK_FILE)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch {
    return undefined
  }
  await rm(path, { force: true })
  try {
    const check = JSON.parse(text) as StoreCheck
    return check?.version === 1 && typeof check.blocklist?.total === 'number' ? check : undefined
  } catch {
    return undefined
  }
}

/**
 * Compares the blocklist as opened with what the last clean stop left; logs an error when entries that must
 * still be live are missing. Returns the shortfall (0 when the store looks whole), for tests and metrics.
 */
export async function checkStoreAfterRestart(
  dataDir: string,
  loaded: number,
  now: number,
  log: Logger,
): Promise<number> {
  const check = await takeStoreCheck(dataDir)
  if (check === undefined) return 0
  const expected = certainlyLive(check.blocklist, now)
  if (loaded >= expected) return 0
  log.error(
    {
      store: join(dataDir, 'db'),
      blocklistEntries: loaded,
      expectedAtLeast: expected,
      lastCleanStop: new Date(check.writtenAt).toISOString(),
    },
    `the store lost data since the last clean stop: the blocklist opened with ${loaded} entries, at least ` +
      `${expected} should still be live. LevelDB drops the rest of a damaged or truncated log without an error. ` +
      `Stop the node, keep a copy of ${join(dataDir, 'db')}, and restore it from a backup; peers will resend ` +
      `what is still reported`,
  )
  return expected - loaded
}
