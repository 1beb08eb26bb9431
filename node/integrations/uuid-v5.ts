import { createHash } from 'node:crypto'

/** STIX 2.1's namespace for deterministic identifiers (STIX 2.1 §2.9). */
export const STIX_NAMESPACE = '00abedb4-aa42-466c-9c01-fed23315a9b7'

/**
 * RFC 4122 name-based UUID (version 5, SHA-1). Deterministic ids let the same alert map to the same STIX
 * object on every node and on every export, so a SIEM de-duplicates instead of piling up copies.
 */
export function uuidV5(name: string, namespace: string = STIX_NAMESPACE): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex')
  if (ns.length !== 16) throw new TypeError(`namespace is not a UUID: ${namespace}`)
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest()
  hash[6] = (hash[6] & 0x0f) | 0x50
  hash[8] = (hash[8] & 0x3f) | 0x80
  const h = hash.subarray(0, 16).toString('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}
