/**
 * IP address text <-> bytes, the layer under protocol/indicator.ts. Parsing is one pass over the string into
 * module-level scratch space, so log parsers can call parseIp on every line without garbage beyond the bytes
 * they get back. Accepted: IPv4 dotted quads without leading zeros (`010` could mean octal 8 or decimal 10,
 * and tools disagree), and every RFC 4291 textual IPv6 form including a trailing dotted quad. Rejected: zone
 * ids (`fe80::1%eth0` names an interface on one host, meaningless to peers), whitespace, everything else.
 */

export class InvalidIndicatorError extends Error {
  override name = 'InvalidIndicatorError'
}

/** `ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255` */
export const MAX_ADDRESS_LENGTH = 45

const COLON = 0x3a
const DOT = 0x2e

const words = new Uint16Array(8)
const scratch = new Uint8Array(16)
// Why the last scan failed. Only string constants are assigned, so failing allocates nothing either.
let failure = ''

function fail(reason: string): false {
  failure = reason
  return false
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30
  if (c >= 0x61 && c <= 0x66) return c - 0x57
  if (c >= 0x41 && c <= 0x46) return c - 0x37
  return -1
}

function unexpected(c: number): string {
  if (c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xa0 || c === 0xfeff) return 'contains whitespace'
  if (c === 0x25) return 'zone ids (%...) are not allowed'
  if (c === 0x2f) return 'unexpected "/"'
  if (c === COLON) return 'more than two colons in a row'
  return 'unexpected character'
}

/** Dotted quad in s[start, end) into scratch[at, at + 4). */
function scanIpv4(s: string, start: number, end: number, at: number): boolean {
  let octets = 0
  let value = 0
  let digits = 0
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i)
    if (c === DOT) {
      if (digits === 0) return fail('empty IPv4 octet')
      if (octets === 3) return fail('IPv4 address has more than 4 octets')
      scratch[at + octets++] = value
      value = 0
      digits = 0
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits > 0 && value === 0) return fail('IPv4 octet has a leading zero (octal or decimal?)')
      value = value * 10 + (c - 0x30)
      if (value > 255) return fail('IPv4 octet is greater than 255')
      digits++
    } else {
      return fail(unexpected(c))
    }
  }
  if (digits === 0) return fail(octets === 0 ? 'empty address' : 'empty IPv4 octet')
  if (octets !== 3) return fail('IPv4 address needs 4 octets')
  scratch[at + 3] = value
  return true
}

/** IPv6 text in s[start, end) into scratch[0, 16). */
function scanIpv6(s: string, start: number, end: number): boolean {
  let groups = 0
  let gap = -1 // index in `words` where `::` stands
  let i = start
  if (s.charCodeAt(i) === COLON) {
    if (i + 1 >= end || s.charCodeAt(i + 1) !== COLON) return fail('starts with a single colon')
    gap = 0
    i += 2
  }
  while (i < end) {
    const groupStart = i
    let value = 0
    while (i < end) {
      const h = hexValue(s.charCodeAt(i))
      if (h < 0) break
      value = (value << 4) | h
      i++
    }
    if (i < end && s.charCodeAt(i) === DOT) {
      // A trailing dotted quad fills the last two groups.
      if (groups > 6) return fail('too many groups before the embedded IPv4 address')
      if (!scanIpv4(s, groupStart, end, 12)) return false
      words[groups++] = (scratch[12] << 8) | scratch[13]
      words[groups++] = (scratch[14] << 8) | scratch[15]
      break
    }
    const digits = i - groupStart
    if (digits === 0) return fail(unexpected(s.charCodeAt(i)))
    if (digits > 4) return fail('IPv6 group has more than 4 hex digits')
    if (groups === 8) return fail('IPv6 address has more than 8 groups')
    words[groups++] = value
    if (i === end) break
    if (s.charCodeAt(i) !== COLON) return fail(unexpected(s.charCodeAt(i)))
    i++
    if (i === end) return fail('ends with a single colon')
    if (s.charCodeAt(i) === COLON) {
      if (gap >= 0) return fail('more than one "::"')
      gap = groups
      i++
    }
  }
  if (gap < 0 && groups !== 8) return fail('IPv6 address needs 8 groups or a "::"')
  if (gap >= 0 && groups > 7) return fail('"::" must stand for at least one zero group')
  // Expand: the groups before the gap, zeros, then the groups after it against the end.
  const tail = gap < 0 ? 0 : groups - gap
  const head = gap < 0 ? 8 : gap
  for (let k = 0; k < 8; k++) {
    const w = k < head ? words[k] : k >= 8 - tail ? words[k - (8 - groups)] : 0
    scratch[2 * k] = w >> 8
    scratch[2 * k + 1] = w & 0xff
  }
  return true
}

/** Family of the address in s[start, end), left in scratch, or 0 with `failure` set. */
function scan(s: string, start: number, end: number): 0 | 4 | 6 {
  for (let i = start; i < end; i++) {
    if (s.charCodeAt(i) === COLON) return scanIpv6(s, start, end) ? 6 : 0
  }
  return scanIpv4(s, start, end, 0) ? 4 : 0
}

/** `::ffff:a.b.c.d`: an IPv4 address written as IPv6 (dual-stack sockets report IPv4 clients this way). */
export function isIpv4Mapped(bytes: Uint8Array): boolean {
  if (bytes.length !== 16 || bytes[10] !== 0xff || bytes[11] !== 0xff) return false
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false
  return true
}

/**
 * A single address as 4 or 16 bytes, or undefined. An IPv4-mapped IPv6 address comes back as its 4 IPv4 bytes,
 * so one client is one key whichever socket saw it. Never throws.
 */
export function parseIp(text: string): Uint8Array | undefined {
  if (typeof text !== 'string' || text.length > MAX_ADDRESS_LENGTH) return undefined
  const family = scan(text, 0, text.length)
  if (family === 4) return scratch.slice(0, 4)
  if (family === 6) return isIpv4Mapped(scratch) ? scratch.slice(12, 16) : scratch.slice(0, 16)
  return undefined
}

/**
 * The address in text[start, end) as 4 or 16 bytes exactly as written (mapped addresses stay 16 bytes), or
 * the reason it is not one. The detailed form of parseIp, for protocol/indicator.ts.
 */
export function readAddress(text: string, start: number, end: number): Uint8Array | string {
  const family = scan(text, start, end)
  if (family === 0) return failure
  return scratch.slice(0, family === 4 ? 4 : 16)
}

function formatIpv4(bytes: Uint8Array, at: number): string {
  return `${bytes[at]}.${bytes[at + 1]}.${bytes[at + 2]}.${bytes[at + 3]}`
}

/** RFC 5952: lowercase, no leading zeros, the longest run (>= 2) of zero groups as `::`, the first on ties. */
function formatIpv6(bytes: Uint8Array): string {
  let bestAt = -1
  let bestLength = 1 // a single zero group is written `0`, never `::` (§4.2.2)
  let runAt = 0
  let runLength = 0
  for (let k = 0; k < 8; k++) {
    if (bytes[2 * k] !== 0 || bytes[2 * k + 1] !== 0) {
      runLength = 0
    } else {
      if (runLength++ === 0) runAt = k
      if (runLength > bestLength) {
        bestLength = runLength
        bestAt = runAt
      }
    }
  }
  let text = ''
  for (let k = 0; k < 8; k++) {
    if (k === bestAt) {
      text += '::'
      k += bestLength - 1
      continue
    }
    if (k > 0 && k !== bestAt + bestLength) text += ':'
    text += ((bytes[2 * k] << 8) | bytes[2 * k + 1]).toString(16)
  }
  return text
}

/** Canonical text of a 4- or 16-byte address; an IPv4-mapped address is written as plain IPv4. */
export function formatIp(bytes: Uint8Array): string {
  if (!(bytes instanceof Uint8Array) || (bytes.length !== 4 && bytes.length !== 16)) {
    throw new InvalidIndicatorError('an IP address is a Uint8Array of 4 or 16 bytes')
  }
  if (bytes.length === 4) return formatIpv4(bytes, 0)
  return isIpv4Mapped(bytes) ? formatIpv4(bytes, 12) : formatIpv6(bytes)
}
