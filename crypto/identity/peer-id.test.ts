import { describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { generateSecretKey, getPublicKey, signWithContext, verifyWithContext } from '../signing/ed25519.ts'
import { ed25519PublicKeyFromPeerId, peerIdFromEd25519PublicKey } from './peer-id.ts'

describe('peer id <-> Ed25519 public key', () => {
  it('round-trips through the PeerId object and its string form', () => {
    const publicKey = getPublicKey(generateSecretKey())
    const peerId = peerIdFromEd25519PublicKey(publicKey)
    expect(peerId.type).toBe('Ed25519')
    expect(ed25519PublicKeyFromPeerId(peerId)).toEqual(publicKey)
    expect(ed25519PublicKeyFromPeerId(peerId.toString())).toEqual(publicKey)
    expect(peerIdFromString(peerId.toString()).equals(peerId)).toBe(true)
    expect(peerIdFromEd25519PublicKey(Buffer.from(publicKey)).equals(peerId)).toBe(true)
  })

  it('a signature verifies with the key recovered from the sender peer id alone', () => {
    const secretKey = generateSecretKey()
    const sender = peerIdFromEd25519PublicKey(getPublicKey(secretKey)).toString()
    const message = new TextEncoder().encode('203.0.113.5')
    const signature = signWithContext(secretKey, 'shieldwall/alert/1', message)
    expect(
      verifyWithContext(signature, 'shieldwall/alert/1', message, ed25519PublicKeyFromPeerId(sender)),
    ).toBe(true)
    const other = peerIdFromEd25519PublicKey(getPublicKey(generateSecretKey())).toString()
    expect(
      verifyWithContext(signature, 'shieldwall/alert/1', message, ed25519PublicKeyFromPeerId(other)),
    ).toBe(false)
  })

  it('returns a copy, so callers cannot corrupt a shared PeerId', () => {
    const publicKey = getPublicKey(generateSecretKey())
    const peerId = peerIdFromEd25519PublicKey(publicKey)
    ed25519PublicKeyFromPeerId(peerId).fill(0)
    expect(ed25519PublicKeyFromPeerId(peerId)).toEqual(publicKey)
  })

  it('rejects public keys of the wrong length', () => {
    for (const bad of [new Uint8Array(0), new Uint8Array(31), new Uint8Array(33), 'abc', undefined]) {
      expect(() => peerIdFromEd25519PublicKey(bad as Uint8Array)).toThrow(
        expect.objectContaining({ name: 'InvalidKeyError' }),
      )
    }
  })

  it('rejects secp256k1 and RSA peer ids with a named error', async () => {
    const secp = peerIdFromPrivateKey(await generateKeyPair('secp256k1'))
    expect(() => ed25519PublicKeyFromPeerId(secp)).toThrow(
      expect.objectContaining({ name: 'InvalidPeerIdError' }),
    )
    expect(() => ed25519PublicKeyFromPeerId(secp.toString())).toThrow(/secp256k1, not Ed25519/)
    // An RSA peer id (sha256 multihash, key not embedded).
    const rsa = 'QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N'
    expect(() => ed25519PublicKeyFromPeerId(rsa)).toThrow(
      expect.objectContaining({ name: 'InvalidPeerIdError' }),
    )
  })

  it('rejects strings that are not peer ids', () => {
    for (const bad of ['', 'not-a-peer-id', '12D3KooW', '203.0.113.5']) {
      expect(() => ed25519PublicKeyFromPeerId(bad)).toThrow(
        expect.objectContaining({ name: 'InvalidPeerIdError' }),
      )
    }
    expect(() => ed25519PublicKeyFromPeerId(undefined as unknown as string)).toThrow(
      expect.objectContaining({ name: 'InvalidPeerIdError' }),
    )
  })
})
