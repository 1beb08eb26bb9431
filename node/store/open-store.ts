import { randomBytes } from 'node:crypto'
import { mkdir, open, unlink } from 'node:fs/promises'
import { statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { Level, type BatchOperation } from 'level'

/**
 * The node's single on-disk database (LevelDB through classic-level). Every concern gets its own sublevel so
 * keys never collide and each module can iterate its own range; cross-concern writes go in one batch.
 */
export type Store = Level<string, string>

/** One write of a batch on the store, on any of its sublevels: what modules hand each other to commit together. */
export type StoreBatchOp = BatchOperation<Store, string, string>

export class StoreOpenError extends Error {
  override name = 'StoreOpenError'
}

/** The data dir (or a directory inside it) cannot be created or written: a file in the way, or no permission. */
export class DataDirError extends Error {
  override name = 'DataDirError'
}

const DATA_DIR_FIX = 'set dataDir (--data-dir, SHIELDWALL_DATA_DIR) to a directory this user can write'

/** A clear error for a failed mkdir/write under the data dir, or the error itself when it is something else. */
export function dataDirError(dataDir: string, err: unknown): Error {
  const e = err as NodeJS.ErrnoException
  const where = e.path ?? dataDir
  switch (e.code) {
    case 'EEXIST':
    case 'ENOTDIR':
      return new DataDirError(
        `data dir ${dataDir}: ${inTheWay(where)} is in the way and is not a directory; move it away or ${DATA_DIR_FIX}`,
      )
    case 'EACCES':
    case 'EPERM':
      return new DataDirError(
        `data dir ${dataDir}: no permission to write ${where} (running as uid ${process.getuid?.() ?? '?'}); ` +
          `fix its owner or mode (chown/chmod), or ${DATA_DIR_FIX}`,
      )
    case 'EROFS':
      return new DataDirError(`data dir ${dataDir}: ${where} is on a read-only file system; ${DATA_DIR_FIX}`)
    default:
      return err as Error
  }
}

/** The nearest of `path` and its parents that exists but is not a directory: what a mkdir ran into. */
function inTheWay(path: string): string {
  for (let p = path; p !== dirname(p); p = dirname(p)) {
    try {
      if (!statSync(p).isDirectory()) return p
      break
    } catch {
      // missing (or ENOTDIR below a file): look at the parent
    }
  }
  return path
}

/**
 * Creates the data dir (mode 0700) and proves it writable by creating and removing a probe file, so a file in
 * the way or a read-only directory is one clear error naming the path before anything else is written.
 */
export async function ensureDataDir(dataDir: string): Promise<void> {
  try {
    await mkdir(dataDir, { recursive: true, mode: 0o700 })
    const probe = join(dataDir, `.write-probe-${process.pid}-${randomBytes(4).toString('hex')}`)
    await (await open(probe, 'wx', 0o600)).close()
    await unlink(probe)
  } catch (err) {
    throw dataDirError(dataDir, err)
  }
}

/** LevelDB's own lock (`LOCK`) is held: the one case where another process on the same data dir is the cause. */
function isLockError(err: unknown): boolean {
  const e = err as { code?: string; cause?: { code?: string } }
  return e.code === 'LEVEL_LOCKED' || e.cause?.code === 'LEVEL_LOCKED'
}

export async function openStore(dataDir: string): Promise<Store> {
  const location = join(dataDir, 'db')
  try {
    await mkdir(location, { recursive: true, mode: 0o700 })
  } catch (err) {
    throw dataDirError(dataDir, err)
  }
  const db = new Level<string, string>(location, { valueEncoding: 'utf8' })
  try {
    await db.open()
  } catch (err) {
    const cause = (err as { cause?: Error & { code?: string } }).cause
    const detail = cause?.message ?? (err as Error).message
    if (isLockError(err)) {
      throw new StoreOpenError(
        `cannot open the store at ${location}: ${detail} (is another shieldwall node running with the same data dir?)`,
      )
    }
    const hint =
      cause?.code === 'LEVEL_CORRUPTION'
        ? '; the store is damaged: keep a copy of the directory, then restore it from a backup or move it away to start empty'
        : ''
    throw new StoreOpenError(`cannot open the store at ${location}: ${detail}${hint}`)
  }
  return db
}

/** Zero-padded decimal so that lexicographic key order is numeric order (timestamps, sequence numbers). */
export function sortableNumber(n: number): string {
  return n.toString().padStart(16, '0')
}
