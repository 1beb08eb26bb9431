import { sha256 } from '@noble/hashes/sha2.js'
import { CID } from 'multiformats/cid'
import { create as createDigest } from 'multiformats/hashes/digest'
import { ALERTS_SYNC_PROVIDER_KEY } from '../../protocol/messages/sync-page.ts'

const RAW_CODEC = 0x55
const SHA2_256 = 0x12

/** The well-known CID (raw, sha2-256 of the key's UTF-8) that nodes serving a protocol provide in the DHT. */
export function providerCid(key: string): CID {
  return CID.createV1(RAW_CODEC, createDigest(SHA2_256, sha256(new TextEncoder().encode(key))))
}

export const ALERTS_SYNC_CID = providerCid(ALERTS_SYNC_PROVIDER_KEY)
