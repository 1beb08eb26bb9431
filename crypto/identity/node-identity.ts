import { randomBytes } from 'node:crypto'
import { link, mkdir, open, rename, stat, unlink } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { Ed25519PeerId, Ed25519PrivateKey } from '@libp2p/interface'
import { generateSecretKey, getPublicKey } from '../signing/ed25519.ts'
import { IdentityMismatchError, InsecureKeyFileError, InvalidKeyFileError } from './identity-errors.ts'

export const IDENTITY_FILE_NAME = 'identity.key'
/** A real identity file is ~200 bytes; refuse to slurp anything much larger. */
const MAX_FILE_SIZE = 4096
const BASE64_32_BYTES = /^[A-Za-z0-9+/]{43}=$/

/**
 * One Ed25519 key is everything a node is: its libp2p PeerId (what peers authenticate on the transport), the
 * key that signs its alerts, and so the identity its reputation is attached to. Losing or replacing the file
 * makes a new node.
 */
export interface NodeIdentity {
  /** 32-byte Ed25519 seed */
  secretKey: Uint8Array
  /** 32-byte Ed25519 public key */
  publicKey: Uint8Array
  /** the same key in libp2p's form, for the transport */
  privateKey: Ed25519PrivateKey
  peerId: Ed25519PeerId
  peerIdString: string
  /** true when this call generated the key (first start) */
  created: boolean
  /** absolute path of the key file */
  path: string
}

/** On-disk format of `identity.key`. */
interface IdentityFile {
  type: 'ed25519'
  secretKey: string
  publicKey: string
  createdAt: string
}

/** Loads `<dataDir>/identity.key`, or creates it (and dataDir) on first start. Never overwrites an existing file. */
export async function loadOrCreateIdentity(dataDir: string): Promise<NodeIdentity> {
  const path = resolve(dataDir, IDENTITY_FILE_NAME)
  const existing = await readIdentityFile(path)
  if (existing !== undefined) return toIdentity(existing, path, false)

  await mkdir(dirname(path), { recursive: true, mode: 0o700 })
  const secretKey = generateSecretKey()
  if (await publishNewIdentityFile(path, secretKey)) return toIdentity(secretKey, path, true)
  // Another process created the file between our read and our write; its key is this node's identity.
  const theirs = await readIdentityFile(path)
  if (theirs === undefined) throw new InvalidKeyFileError(`${path} vanished while it was being created`)
  return toIdentity(theirs, path, false)
}

/**
 * Creates `<dataDir>/identity.key` (and dataDir) for a known key: a node whose identity is decided elsewhere
 * (the simulator derives its members' keys from the seed). Never overwrites: false when the file exists.
 */
export async function createIdentityFile(dataDir: string, secretKey: Uint8Array): Promise<boolean> {
  const path = resolve(dataDir, IDENTITY_FILE_NAME)
  await mkdir(dirname(path), { recursive: true, mode: 0o700 })
  return publishNewIdentityFile(path, secretKey)
}

async function toIdentity(secretKey: Uint8Array, path: string, created: boolean): Promise<NodeIdentity> {
  const publicKey = getPublicKey(secretKey)
  const privateKey = await generateKeyPairFromSeed('Ed25519', secretKey)
  if (!bytesEqual(privateKey.publicKey.raw, publicKey)) {
    throw new IdentityMismatchError(
      'libp2p and noble derive different Ed25519 public keys from the same seed',
    )
  }
  const peerId = peerIdFromPrivateKey(privateKey)
  return { secretKey, publicKey, privateKey, peerId, peerIdString: peerId.toString(), created, path }
}

/** The seed stored at `path`, or undefined if there is no file. */
async function readIdentityFile(path: string): Promise<Uint8Array | undefined> {
  let handle
  try {
    handle = await open(path, 'r')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  try {
    // stat the open handle, not the path, so the checks apply to the bytes we then read.
    const info = await handle.stat()
    if (!info.isFile()) throw invalid(path, 'not a regular file')
    // POSIX permission bits mean nothing on Windows, where ACLs decide.
    if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
      const mode = (info.mode & 0o777).toString(8).padStart(4, '0')
      throw new InsecureKeyFileError(
        `${path} has mode ${mode}, so other users may read this node's secret key; ` +
          `run \`chmod 600 ${path}\` (and consider the key compromised if others did read it)`,
      )
    }
    if (info.size > MAX_FILE_SIZE) throw invalid(path, `${info.size} bytes is too large for an identity file`)
    return parseIdentityFile(await handle.readFile('utf8'), path)
  } finally {
    await handle.close()
  }
}

function parseIdentityFile(text: string, path: string): Uint8Array {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch {
    throw invalid(path, 'not valid JSON')
  }
  if (typeof doc !== 'object' || doc === null || (doc as { type?: unknown }).type !== 'ed25519') {
    throw invalid(path, 'expected a JSON object with "type": "ed25519"')
  }
  const { secretKey, publicKey } = doc as Partial<Record<keyof IdentityFile, unknown>>
  const seed = decodeKey(secretKey, 'secretKey', path)
  const expected = decodeKey(publicKey, 'publicKey', path)
  if (!bytesEqual(getPublicKey(seed), expected)) throw invalid(path, 'publicKey does not belong to secretKey')
  return seed
}

function decodeKey(value: unknown, field: string, path: string): Uint8Array {
  // Buffer's base64 decoder skips junk silently; a strict shape check makes a damaged file fail loudly.
  if (typeof value !== 'string' || !BASE64_32_BYTES.test(value)) {
    throw invalid(path, `"${field}" must be 32 bytes in base64`)
  }
  return Uint8Array.from(Buffer.from(value, 'base64'))
}

function invalid(path: string, reason: string): InvalidKeyFileError {
  // Never echo file contents: they may be most of a secret key.
  return new InvalidKeyFileError(
    `${path} is not a usable identity file (${reason}). It was left untouched: restore it from a backup, ` +
      `or move it away to start as a new node with a new peer id.`,
  )
}

/**
 * Writes the key to a private temp file, fsyncs it, then links it into place. A link, unlike a rename, fails
 * if the target exists, so two nodes started at once on one data dir cannot overwrite each other's key.
 * Returns false if another process published first.
 */
async function publishNewIdentityFile(path: string, secretKey: Uint8Array): Promise<boolean> {
  const doc: IdentityFile = {
    type: 'ed25519',
    secretKey: Buffer.from(secretKey).toString('base64'),
    publicKey: Buffer.from(getPublicKey(secretKey)).toString('base64'),
    createdAt: new Date().toISOString(),
  }
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`
  const handle = await open(tmp, 'wx', 0o600)
  try {
    try {
      await handle.chmod(0o600) // exactly 0600 whatever the umask
      await handle.writeFile(JSON.stringify(doc, null, 2) + '\n')
      await handle.sync()
    } finally {
      await handle.close()
    }
    if (!(await linkNoClobber(tmp, path))) return false
    await syncDirectory(dirname(path))
    return true
  } finally {
    await unlink(tmp).catch(() => {})
  }
}

async function linkNoClobber(from: string, to: string): Promise<boolean> {
  try {
    await link(from, to)
    return true
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EEXIST') return false
    // Some filesystems (FAT, some network mounts) have no hard links: fall back to check-then-rename.
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw err
    if (await exists(to)) return false
    await rename(from, to)
    return true
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw err
  }
}

/** Makes the new directory entry durable, so a crash right after first start cannot lose a key peers have seen. */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r')
    try {
      await handle.sync()
    } finally {
      await handle.close()
    }
  } catch {
    // Not supported everywhere (Windows); the file itself is already synced.
  }
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
