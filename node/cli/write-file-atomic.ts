import { randomBytes } from 'node:crypto'
import { open, rename, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

/** The temp file could not be created under any of the names tried. */
export class AtomicWriteError extends Error {
  override name = 'AtomicWriteError'
}

/** How many fresh names are tried when one already exists (planted, or left by a crash). */
const NAME_ATTEMPTS = 8

export interface AtomicWriteOptions {
  mode?: number
  /** The temp name's random part; injectable so a test can plant a file at the name that will be tried. */
  randomName?: () => string
}

/**
 * Writes `text` to `path` so that a reader sees the old file or the whole new one: a temp file beside it,
 * then a rename. The temp name is unpredictable and opened with O_CREAT|O_EXCL (`wx`), so a symlink planted
 * at a guessed name makes the open fail instead of writing through the link to its target; on EEXIST another
 * name is tried.
 */
export async function writeFileAtomic(
  path: string,
  text: string,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const randomName = options.randomName ?? (() => randomBytes(12).toString('hex'))
  const mode = options.mode ?? 0o644
  for (let attempt = 0; attempt < NAME_ATTEMPTS; attempt++) {
    const tmp = join(dirname(path), `.${basename(path)}.${randomName()}.tmp`)
    let handle
    try {
      handle = await open(tmp, 'wx', mode)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue
      throw err
    }
    try {
      try {
        await handle.chmod(mode) // exactly `mode`, whatever the umask
        await handle.writeFile(text)
        await handle.sync()
      } finally {
        await handle.close()
      }
      await rename(tmp, path)
    } catch (err) {
      await unlink(tmp).catch(() => {})
      throw err
    }
    return
  }
  throw new AtomicWriteError(
    `cannot write ${path}: ${NAME_ATTEMPTS} temp names beside it already existed; check ${dirname(path)} for ` +
      `files named .${basename(path)}.*.tmp`,
  )
}
