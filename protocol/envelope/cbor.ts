import { decode, encode } from 'cborg'

/**
 * The one deterministic encoding used for everything we sign. cborg sorts map keys (RFC 7049 canonical order)
 * and always picks the shortest integer and float forms, so the same value always gives the same bytes. On
 * decode we refuse everything that has no place in our messages (tags, undefined, NaN, indefinite lengths,
 * duplicate keys) and callers re-encode and compare to prove the input was canonical.
 */
const DECODE_OPTIONS = {
  strict: true,
  rejectDuplicateMapKeys: true,
  allowUndefined: false,
  allowIndefinite: false,
  allowNaN: false,
  allowInfinity: false,
  useMaps: false,
} as const

export function encodeCanonical(value: unknown): Uint8Array {
  return encode(value)
}

export function decodeCanonical(bytes: Uint8Array): unknown {
  return decode(bytes, DECODE_OPTIONS)
}

const UNSIGNED_DECODE_OPTIONS = { ...DECODE_OPTIONS, strict: false } as const

/**
 * For messages nobody signs (sync requests and pages): any valid encoding is accepted, but still nothing that
 * has no place in our messages. Throws cborg's error for bad input.
 */
export function decodeUnsigned(bytes: Uint8Array): unknown {
  return decode(bytes, UNSIGNED_DECODE_OPTIONS)
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
