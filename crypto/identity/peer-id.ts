import { publicKeyFromRaw } from '@libp2p/crypto/keys'
import { peerIdFromPublicKey, peerIdFromString } from '@libp2p/peer-id'
import type { Ed25519PeerId, PeerId } from '@libp2p/interface'
import { InvalidKeyError, PUBLIC_KEY_LENGTH } from '../signing/ed25519.ts'
import { InvalidPeerIdError } from './identity-errors.ts'

/**
 * The libp2p PeerId of an Ed25519 public key. Ed25519 peer ids embed the key itself (identity multihash), so
 * the id a peer authenticates with on the transport and the key that signs its messages are the same thing,
 * and either can be recovered from the other without a lookup.
 */
export function peerIdFromEd25519PublicKey(raw: Uint8Array): Ed25519PeerId {
  if (!(raw instanceof Uint8Array) || raw.length !== PUBLIC_KEY_LENGTH) {
    throw new InvalidKeyError(`an Ed25519 public key is ${PUBLIC_KEY_LENGTH} bytes`)
  }
  // publicKeyFromRaw picks the key type from the length; 32 bytes is always Ed25519.
  const key = publicKeyFromRaw(raw)
  if (key.type !== 'Ed25519') throw new InvalidKeyError(`expected an Ed25519 key, got ${key.type}`)
  return peerIdFromPublicKey(key)
}

/** The raw 32-byte Ed25519 public key inside a peer id (object or string form). */
export function ed25519PublicKeyFromPeerId(peerId: PeerId | string): Uint8Array {
  let id: PeerId
  if (typeof peerId === 'string') {
    try {
      id = peerIdFromString(peerId)
    } catch (err) {
      throw new InvalidPeerIdError(`not a peer id: ${(err as Error).message}`)
    }
  } else if (typeof peerId === 'object' && peerId !== null) {
    id = peerId
  } else {
    throw new InvalidPeerIdError('peer id must be a PeerId or its string form')
  }
  if (id.type !== 'Ed25519')
    throw new InvalidPeerIdError(`peer id ${id.toString()} is ${id.type}, not Ed25519`)
  // A copy: the PeerId (often cached and shared) must not change if the caller writes to the result.
  return id.publicKey.raw.slice()
}

/**
 * Why `text` is not the string form of an Ed25519 peer id, or undefined when it is. The one check of a peer id
 * an operator types (the peers API, `reputation.trustedPeers`/`bannedPeers`): every shieldwall identity is
 * Ed25519, so anything else (a base58 number, an RSA `Qm...` id) can never be a peer we meet.
 */
export function ed25519PeerIdProblem(text: string): string | undefined {
  if (typeof text !== 'string' || text.length === 0 || text.length > 128) return 'not a peer id'
  try {
    ed25519PublicKeyFromPeerId(text)
    return undefined
  } catch (err) {
    return (err as Error).message
  }
}
