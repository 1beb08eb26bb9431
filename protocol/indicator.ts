import {
  formatIp,
  InvalidIndicatorError,
  isIpv4Mapped,
  MAX_ADDRESS_LENGTH,
  readAddress,
} from './indicator-ip.ts'

export { formatIp, InvalidIndicatorError, parseIp } from './indicator-ip.ts'

/**
 * What alerts and blocklists talk about: one attacker address or a CIDR range of them. Each indicator has one
 * canonical spelling, and the wire format accepts only that spelling, so a signature covers exactly one text
 * and two reports about the same network compare equal as strings.
 */
export interface Indicator {
  family: 4 | 6
  /** the network address, host bits cleared: 4 or 16 bytes */
  bytes: Uint8Array
  /** 32 or 128 for a single address */
  prefix: number
  /** `203.0.113.5`, `10.0.0.0/8`, `2001:db8::/32` */
  canonical: string
  /** true for a CIDR that covers more than one address */
  isRange: boolean
}

/** The longest address text plus `/128`; anything longer cannot be an indicator. */
export const MAX_INDICATOR_LENGTH = MAX_ADDRESS_LENGTH + 4

const WHITESPACE = /\s/

function parsePrefix(text: string, start: number, bits: number): number | string {
  const digits = text.length - start
  if (digits === 0) return 'prefix length is empty'
  let value = 0
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x30 || c > 0x39) return 'prefix length must be a decimal number'
    value = value * 10 + (c - 0x30)
  }
  if (digits > 1 && text.charCodeAt(start) === 0x30) return 'prefix length has a leading zero'
  if (digits > 3 || value > bits) return `prefix length must be 0..${bits} for IPv${bits === 32 ? 4 : 6}`
  return value
}

function maskHostBits(bytes: Uint8Array, prefix: number): void {
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.min(8, Math.max(0, prefix - 8 * i))
    bytes[i] &= (0xff00 >> keep) & 0xff
  }
}

/** The indicator, or why the text is not one. Does not throw, so validators of network input stay cheap. */
function readIndicator(text: string): Indicator | string {
  if (typeof text !== 'string') return 'indicator must be a string'
  if (text.length === 0) return 'indicator is empty'
  if (text.length > MAX_INDICATOR_LENGTH) return `longer than ${MAX_INDICATOR_LENGTH} characters`
  if (WHITESPACE.test(text)) return 'contains whitespace'
  const slash = text.indexOf('/')
  const address = readAddress(text, 0, slash < 0 ? text.length : slash)
  if (typeof address === 'string') return address
  let bytes = address
  let prefix = bytes.length * 8
  if (slash >= 0) {
    const parsed = parsePrefix(text, slash + 1, prefix)
    if (typeof parsed === 'string') return parsed
    prefix = parsed
  }
  // `::ffff:a.b.c.d/(96+n)` is IPv4 `a.b.c.d/n`: one spelling per network, whichever socket family saw it.
  if (bytes.length === 16 && prefix >= 96 && isIpv4Mapped(bytes)) {
    bytes = bytes.slice(12)
    prefix -= 96
  }
  maskHostBits(bytes, prefix)
  const isRange = prefix < bytes.length * 8
  const canonical = isRange ? `${formatIp(bytes)}/${prefix}` : formatIp(bytes)
  return { family: bytes.length === 4 ? 4 : 6, bytes, prefix, canonical, isRange }
}

/**
 * Parses an IPv4/IPv6 address or CIDR in any valid spelling (the API accepts what people type) and gives its
 * canonical form. Only syntax is checked here: policy such as a minimum prefix length belongs to validators.
 */
export function parseIndicator(text: string): Indicator {
  const result = readIndicator(text)
  if (typeof result === 'string') {
    const shown =
      typeof text === 'string' && text.length <= MAX_INDICATOR_LENGTH ? `${JSON.stringify(text)}: ` : ''
    throw new InvalidIndicatorError(`${shown}${result}`)
  }
  return result
}

/** True only for the canonical spelling, the one form the wire format accepts. */
export function isCanonicalIndicator(text: string): boolean {
  const result = readIndicator(text)
  return typeof result !== 'string' && result.canonical === text
}

/** Whether `range` covers all of `ip` (an address, or a range nested inside it). Families never mix. */
export function indicatorContains(range: Indicator, ip: Indicator): boolean {
  if (range.family !== ip.family || ip.prefix < range.prefix) return false
  const whole = range.prefix >> 3
  for (let i = 0; i < whole; i++) if (range.bytes[i] !== ip.bytes[i]) return false
  const rest = range.prefix & 7
  if (rest === 0) return true
  const mask = (0xff00 >> rest) & 0xff
  return (range.bytes[whole] & mask) === (ip.bytes[whole] & mask)
}
