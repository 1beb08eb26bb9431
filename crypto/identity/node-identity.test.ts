import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { publicKeyFromRaw } from '@libp2p/crypto/keys'
import { getPublicKey, sign, verify } from '../signing/ed25519.ts'
import { createIdentityFile, loadOrCreateIdentity } from './node-identity.ts'
import { ed25519PublicKeyFromPeerId } from './peer-id.ts'

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64')
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')
// RFC 8032 §7.1 TEST 1 key pair.
const SEED = Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex')
const PUBLIC = Buffer.from('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', 'hex')

let root: string
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'shieldwall-identity-'))
})
afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

async function writeKeyFile(dataDir: string, content: string, mode = 0o600): Promise<string> {
  const path = join(dataDir, 'identity.key')
  await writeFile(path, content, { mode })
  await chmod(path, mode)
  return path
}

describe('loadOrCreateIdentity', () => {
  it('creates dataDir (0700) and a 0600 key file on first start', async () => {
    const dataDir = join(root, 'nested', 'data')
    const identity = await loadOrCreateIdentity(dataDir)
    expect(identity.created).toBe(true)
    expect(identity.path).toBe(join(dataDir, 'identity.key'))
    expect((await stat(identity.path)).mode & 0o777).toBe(0o600)
    expect((await stat(dataDir)).mode & 0o777).toBe(0o700)

    const doc = JSON.parse(await readFile(identity.path, 'utf8'))
    expect(Object.keys(doc).sort()).toEqual(['createdAt', 'publicKey', 'secretKey', 'type'])
    expect(doc.type).toBe('ed25519')
    expect(doc.secretKey).toBe(b64(identity.secretKey))
    expect(doc.publicKey).toBe(b64(identity.publicKey))
    expect(new Date(doc.createdAt).toISOString()).toBe(doc.createdAt)
    expect(identity.secretKey).toHaveLength(32)
    expect(identity.publicKey).toEqual(getPublicKey(identity.secretKey))
    expect(identity.peerIdString).toMatch(/^12D3KooW/)
    expect(await readdir(dataDir)).toEqual(['identity.key']) // no temp file left behind
  })

  it('reuses the file on later starts', async () => {
    const first = await loadOrCreateIdentity(root)
    const before = await readFile(first.path, 'utf8')
    const second = await loadOrCreateIdentity(root)
    expect(second.created).toBe(false)
    expect(second.peerIdString).toBe(first.peerIdString)
    expect(second.peerId.equals(first.peerId)).toBe(true)
    expect(second.secretKey).toEqual(first.secretKey)
    expect(await readFile(first.path, 'utf8')).toBe(before)
  })

  it('concurrent first starts agree on one identity and never overwrite each other', async () => {
    const all = await Promise.all(Array.from({ length: 6 }, () => loadOrCreateIdentity(root)))
    expect(new Set(all.map((i) => i.peerIdString)).size).toBe(1)
    expect(all.filter((i) => i.created)).toHaveLength(1)
    expect(await readdir(root)).toEqual(['identity.key'])
  })

  it('transport identity, signing key and peer id are one key', async () => {
    const identity = await loadOrCreateIdentity(root)
    expect(identity.privateKey.type).toBe('Ed25519')
    expect(identity.privateKey.publicKey.raw).toEqual(identity.publicKey)
    const fromPeerId = ed25519PublicKeyFromPeerId(identity.peerIdString)
    expect(fromPeerId).toEqual(identity.publicKey)

    const message = new TextEncoder().encode('alert body')
    expect(verify(sign(identity.secretKey, message), message, fromPeerId)).toBe(true)
    // libp2p's signer (used by the transport and pubsub) and ours are interchangeable.
    expect(verify(await identity.privateKey.sign(message), message, identity.publicKey)).toBe(true)
    expect(await publicKeyFromRaw(fromPeerId).verify(message, sign(identity.secretKey, message))).toBe(true)
  })

  it('loads a hand-written file and derives the expected peer id', async () => {
    await writeKeyFile(
      root,
      JSON.stringify({
        type: 'ed25519',
        secretKey: b64(SEED),
        publicKey: b64(PUBLIC),
        createdAt: '2025-01-01T00:00:00.000Z',
      }),
    )
    const identity = await loadOrCreateIdentity(root)
    expect(identity.created).toBe(false)
    expect(hex(identity.publicKey)).toBe(hex(PUBLIC))
    // An Ed25519 peer id is the identity multihash (0x00, length 0x24) of the protobuf PublicKey {Type: Ed25519, Data}.
    expect(hex(identity.peerId.toMultihash().bytes)).toBe('0024080112' + '20' + hex(PUBLIC))
  })

  for (const mode of [0o644, 0o640, 0o604, 0o660, 0o666]) {
    it(`refuses a key file with mode ${mode.toString(8)} and leaves it alone`, async () => {
      const created = await loadOrCreateIdentity(root)
      await chmod(created.path, mode)
      const error = await loadOrCreateIdentity(root).catch((e: unknown) => e as Error)
      expect(error).toBeInstanceOf(Error)
      expect(error).toMatchObject({ name: 'InsecureKeyFileError' })
      expect((error as Error).message).toContain(created.path)
      expect((error as Error).message).toContain(`0${mode.toString(8)}`)
      expect((error as Error).message).toContain(`chmod 600 ${created.path}`)
      expect((await stat(created.path)).mode & 0o777).toBe(mode)
    })
  }

  const corrupt: Array<[string, string]> = [
    ['empty', ''],
    ['not JSON', 'ssh-ed25519 AAAA...'],
    ['truncated JSON', '{"type":"ed25519","secretKey":"'],
    ['JSON array', '[]'],
    ['JSON null', 'null'],
    ['wrong type', JSON.stringify({ type: 'rsa', secretKey: b64(SEED), publicKey: b64(PUBLIC) })],
    ['missing publicKey', JSON.stringify({ type: 'ed25519', secretKey: b64(SEED) })],
    [
      'short seed',
      JSON.stringify({ type: 'ed25519', secretKey: b64(SEED.subarray(1)), publicKey: b64(PUBLIC) }),
    ],
    [
      '64-byte secret key',
      JSON.stringify({
        type: 'ed25519',
        secretKey: b64(Buffer.concat([SEED, PUBLIC])),
        publicKey: b64(PUBLIC),
      }),
    ],
    [
      'junk in base64',
      JSON.stringify({ type: 'ed25519', secretKey: '!' + b64(SEED).slice(1), publicKey: b64(PUBLIC) }),
    ],
    [
      'hex instead of base64',
      JSON.stringify({ type: 'ed25519', secretKey: hex(SEED), publicKey: hex(PUBLIC) }),
    ],
    [
      'mismatched public key',
      JSON.stringify({
        type: 'ed25519',
        secretKey: b64(SEED),
        publicKey: b64(getPublicKey(new Uint8Array(32))),
      }),
    ],
    ['too large', ' '.repeat(5000)],
  ]
  for (const [name, content] of corrupt) {
    it(`refuses a corrupt key file (${name}) and never overwrites it`, async () => {
      const path = await writeKeyFile(root, content)
      const before = await stat(path)
      const error = await loadOrCreateIdentity(root).catch((e: unknown) => e as Error)
      expect(error).toMatchObject({ name: 'InvalidKeyFileError' })
      expect((error as Error).message).toContain(path)
      expect((error as Error).message).not.toContain(b64(SEED)) // never leak the secret into logs
      expect(await readFile(path, 'utf8')).toBe(content)
      expect((await stat(path)).mtimeMs).toBe(before.mtimeMs)
      expect(await readdir(root)).toEqual(['identity.key'])
    })
  }

  it('refuses an identity path that is a directory', async () => {
    await mkdir(join(root, 'identity.key'), { mode: 0o700 })
    await expect(loadOrCreateIdentity(root)).rejects.toMatchObject({ name: 'InvalidKeyFileError' })
  })
})

describe('createIdentityFile', () => {
  it('writes a given key as the node identity, 0600, and never overwrites one', async () => {
    const dataDir = join(root, 'member')
    expect(await createIdentityFile(dataDir, SEED)).toBe(true)
    const identity = await loadOrCreateIdentity(dataDir)
    expect(identity.created).toBe(false)
    expect(hex(identity.publicKey)).toBe(hex(PUBLIC))
    expect((await stat(identity.path)).mode & 0o777).toBe(0o600)
    const before = await readFile(identity.path, 'utf8')
    expect(await createIdentityFile(dataDir, new Uint8Array(32).fill(7))).toBe(false)
    expect(await readFile(identity.path, 'utf8')).toBe(before)
    expect(await readdir(dataDir)).toEqual(['identity.key'])
  })
})
