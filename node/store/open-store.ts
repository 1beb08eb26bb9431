import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { Level } from 'level'

/**
 * The node's single on-disk database (LevelDB through classic-level). Every concern gets its own sublevel so
 * keys never collide and each module can iterate its own range; cross-concern writes go in one batch.
 */
export type Store = Level<string, string>

export class StoreOpenError extends Error {
  override name = 'StoreOpenError'
}

export async function openStore(dataDir: string): Promise<Store> {
  const location = join(dataDir, 'db')
  await mkdir(location, { recursive: true, mode: 0o700 })
  const db = new Level<string, string>(location, { valueEncoding: 'utf8' })
  try {
    await db.open()
  } catch (err) {
    const cause = (err as { cause?: Error }).cause
    throw new StoreOpenError(
      `cannot open the store at ${location}: ${cause?.message ?? (err as Error).message}` +
        ' (is another shieldwall node running with the same data dir?)',
    )
  }
  return db
}

/** Zero-padded decimal so that lexicographic key order is numeric order (timestamps, sequence numbers). */
export function sortableNumber(n: number): string {
  return n.toString().padStart(16, '0')
}
