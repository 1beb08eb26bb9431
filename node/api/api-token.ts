import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { readFile, rename, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

export class InsecureTokenFileError extends Error {
  override name = 'InsecureTokenFileError'
}

export interface ApiToken {
  token: string
  /** true when this start generated the token: the only time it is shown to the operator */
  created: boolean
  /** where it came from: the token file, or the configured value (`SHIELDWALL_API_TOKEN`) */
  source: 'file' | 'config'
  path: string
}

export const TOKEN_FILE = 'api-token'

/**
 * The admin bearer token: taken from config when set (containers), else read from `<dataDir>/api-token`, else
 * generated (256 random bits) and written there with mode 0600.
 */
export async function loadOrCreateToken(dataDir: string, configured?: string): Promise<ApiToken> {
  const path = join(dataDir, TOKEN_FILE)
  if (configured !== undefined) return { token: configured, created: false, source: 'config', path }
  try {
    const info = await stat(path)
    if ((info.mode & 0o077) !== 0) {
      throw new InsecureTokenFileError(
        `${path} is readable by other users (mode ${(info.mode & 0o777).toString(8)}); run: chmod 600 ${path}`,
      )
    }
    return { token: (await readFile(path, 'utf8')).trim(), created: false, source: 'file', path }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  const token = 'sw_' + randomBytes(32).toString('base64url')
  const tmp = `${path}.${process.pid}.tmp`
  await writeFile(tmp, token + '\n', { mode: 0o600, flag: 'wx' })
  await rename(tmp, path)
  return { token, created: true, source: 'file', path }
}

/** Constant-time comparison; hashing first makes the time independent of the lengths too. */
export function tokenMatches(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest()
  const b = createHash('sha256').update(expected).digest()
  return timingSafeEqual(a, b)
}
