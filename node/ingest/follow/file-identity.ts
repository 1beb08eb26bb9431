import { createHash } from 'node:crypto'
import { open, readdir, stat, type FileHandle } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import type { FileOffset } from './offset-store.ts'

/** How much of a file's start fingerprints it; 256 bytes holds the first timestamps of any log format. */
export const HEAD_BYTES = 256

/** Past this many directory entries the search for a rotated file gives up: it is a log dir, not a haystack. */
const MAX_SCAN = 10_000

export class NotARegularFileError extends Error {
  override name = 'NotARegularFileError'
}

/** An open file and the identity it had when opened (the path it was opened by may name another file since). */
export interface OpenedFile {
  fh: FileHandle
  name: string
  dev: string
  ino: string
  size: number
}

export function hashHead(head: Uint8Array): string {
  return createHash('sha256').update(head).digest('hex')
}

/** Opens `name` for reading; undefined when it does not exist. A directory, FIFO or device is an error. */
export async function openRegular(name: string): Promise<OpenedFile | undefined> {
  let fh: FileHandle
  try {
    fh = await open(name, 'r')
  } catch (err) {
    if (isMissing(err)) return undefined
    throw err
  }
  try {
    const st = await fh.stat({ bigint: true })
    if (!st.isFile()) throw new NotARegularFileError(`${name} is not a regular file`)
    return { fh, name, dev: String(st.dev), ino: String(st.ino), size: Number(st.size) }
  } catch (err) {
    await fh.close().catch(() => undefined)
    throw err
  }
}

/** The first `len` bytes of the file, or fewer if it is shorter. */
export async function readHead(fh: FileHandle, len: number): Promise<Buffer> {
  const buf = Buffer.alloc(len)
  let got = 0
  while (got < len) {
    const { bytesRead } = await fh.read(buf, got, len - got, got)
    if (bytesRead === 0) break
    got += bytesRead
  }
  return buf.subarray(0, got)
}

/** Whether the open file is the one the record was written for: same dev/ino and the same first bytes. */
export async function isRecordedFile(file: OpenedFile, rec: FileOffset): Promise<boolean> {
  if (file.dev !== rec.dev || file.ino !== rec.ino) return false
  const head = await readHead(file.fh, rec.headLen)
  return head.length === rec.headLen && hashHead(head) === rec.headHash
}

/**
 * Where the file a record describes went after the path moved on while we were not watching: logrotate renames
 * `app.log` to `app.log.1` (tried first), other schemes use dates or numbers, so then every file in the directory
 * with the recorded dev/ino and head. Only a file at least as long as the recorded offset qualifies.
 */
export async function findRotated(path: string, rec: FileOffset): Promise<OpenedFile | undefined> {
  const dir = dirname(path)
  const base = basename(path)
  let names: string[]
  try {
    names = await readdir(dir)
  } catch {
    return undefined
  }
  const first = `${base}.1`
  const ordered = names.includes(first) ? [first, ...names.filter((n) => n !== first)] : names
  for (const n of ordered.slice(0, MAX_SCAN)) {
    if (n === base) continue
    const name = join(dir, n)
    try {
      const st = await stat(name, { bigint: true })
      if (!st.isFile() || String(st.dev) !== rec.dev || String(st.ino) !== rec.ino) continue
      const file = await openRegular(name)
      if (file === undefined) continue
      if (file.size >= rec.offset && (await isRecordedFile(file, rec))) return file
      await file.fh.close()
    } catch {
      // vanished or unreadable: not the one
    }
  }
  return undefined
}

/**
 * Where to start in a file never seen before when following from the end: after its last newline, so a line
 * being written right now is delivered whole once complete. With no newline in the last `maxLineBytes + 1`
 * bytes the writer is inside an over-long line, which is skipped.
 */
export async function lineStartNearEnd(
  fh: FileHandle,
  size: number,
  maxLineBytes: number,
): Promise<{ offset: number; skipping: boolean }> {
  if (size === 0) return { offset: 0, skipping: false }
  const window = Math.min(size, maxLineBytes + 1)
  const buf = Buffer.alloc(window)
  let got = 0
  while (got < window) {
    const { bytesRead } = await fh.read(buf, got, window - got, size - window + got)
    if (bytesRead === 0) break
    got += bytesRead
  }
  const nl = buf.subarray(0, got).lastIndexOf(0x0a)
  if (nl !== -1) return { offset: size - window + nl + 1, skipping: false }
  if (window === size) return { offset: 0, skipping: false }
  return { offset: size, skipping: true }
}

export function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  return code === 'ENOENT' || code === 'ENOTDIR'
}
