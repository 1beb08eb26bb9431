import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileAtomic } from '../cli/write-file-atomic.ts'

export class InsecureTokenFileError extends Error {
  override name = 'InsecureTokenFileError'
}

/** The token file exists but holds no usable token (empty, whitespace, binary, too short). */
export class InvalidTokenFileError extends Error {
  override name = 'InvalidTokenFileError'
}

/** The shortest admin token accepted, from the file or from `SHIELDWALL_API_TOKEN` (config api.token). */
export const MIN_API_TOKEN_LENGTH = 16

/** A bearer token is sent in an HTTP header: printable ASCII without spaces, and long enough to resist guessing. */
const TOKEN_PATTERN = /^[\x21-\x7e]+$/

/**
 * The token in a file's bytes, or an error saying what is wrong and how to fix it. Only surrounding whitespace
 * (an editor's newline) is ignored; an empty, binary or short file would start a node nobody can administer.
 */
function tokenFromFile(path: string, bytes: Buffer): string {
  const text = bytes.toString('latin1').trim()
  const fix =
    `write a token of at least ${MIN_API_TOKEN_LENGTH} printable characters (no spaces) to it with mode 0600, ` +
    `or delete it and the node will generate one at start`
  let problem: string | undefined
  if (text.length === 0) problem = bytes.length === 0 ? 'is empty' : 'holds only whitespace'
  else if (!TOKEN_PATTERN.test(text))
    problem = 'holds characters that are not printable ASCII (binary, or spaces)'
  else if (text.length < MIN_API_TOKEN_LENGTH)
    problem = `holds a token of ${text.length} characters, shorter than ${MIN_API_TOKEN_LENGTH}`
  if (problem !== undefined) throw new InvalidTokenFileError(`the API token file ${path} ${problem}: ${fix}`)
  return text
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
    return { token: tokenFromFile(path, await readFile(path)), created: false, source: 'file', path }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  const token = 'sw_' + randomBytes(32).toString('base64url')
  // an unpredictable temp name: a file planted at a guessable one can neither be written through nor block start
  await writeFileAtomic(path, token + '\n', { mode: 0o600 })
  return { token, created: true, source: 'file', path }
}

/** Constant-time comparison; hashing first makes the time independent of the lengths too. */
export function tokenMatches(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest()
  const b = createHash('sha256').update(expected).digest()
  return timingSafeEqual(a, b)
}
