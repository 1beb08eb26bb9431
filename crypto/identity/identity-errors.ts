/** The identity file can be read by group or others; like ssh, refuse to use a secret key others may have. */
export class InsecureKeyFileError extends Error {
  override name = 'InsecureKeyFileError'
}

/** The identity file exists but is not a usable Ed25519 identity. It is never overwritten: that would be a new node. */
export class InvalidKeyFileError extends Error {
  override name = 'InvalidKeyFileError'
}

/** Not the text form of a peer id, or a peer id that does not embed an Ed25519 public key. */
export class InvalidPeerIdError extends Error {
  override name = 'InvalidPeerIdError'
}

/** libp2p derived a different public key from the seed than noble did; the transport and signing identities would differ. */
export class IdentityMismatchError extends Error {
  override name = 'IdentityMismatchError'
}
