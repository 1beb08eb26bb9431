/**
 * Hot-path IP validation for parsers: a valid IPv4 dotted quad is returned as-is (no allocation), IPv6 is
 * returned in RFC 5952 form (lowercase, no leading zeros, longest zero run as `::`), and IPv4-mapped IPv6
 * (`::ffff:1.2.3.4`) becomes the IPv4 address so one client has one key. Anything else (host names,
 * `192.030.0.6` with its octal-looking leading zero, garbage) is `undefined`: parsers never resolve names.
 * Deliberately independent of protocol/indicator.ts, which is written for a different job.
 */

const groups = new Uint16Array(8)

export function isIpv4(s: string, start = 0, end = s.length): boolean {
  const len = end - start
  if (len < 7 || len > 15) return false
  let parts = 0
  let value = 0
  let digits = 0
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i)
    if (c === 46 /* . */) {
      if (digits === 0 || parts === 3) return false
      parts++
      value = 0
      digits = 0
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && value === 0) return false // leading zero
      value = value * 10 + (c - 48)
      if (value > 255) return false
      digits++
    } else {
      return false
    }
  }
  return parts === 3 && digits > 0
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48
  if (c >= 97 && c <= 102) return c - 87
  if (c >= 65 && c <= 70) return c - 55
  return -1
}

/** Parse IPv6 text in s[start, end) into `groups`; false when invalid. A `%zone` suffix is ignored. */
function parseIpv6(s: string, start: number, end: number): boolean {
  const pct = s.indexOf('%', start)
  if (pct !== -1 && pct < end) end = pct
  if (end - start < 2 || end - start > 45) return false
  let n = 0 // groups written
  let gap = -1 // index in groups where `::` was
  let i = start
  if (s.charCodeAt(i) === 58 /* : */) {
    if (s.charCodeAt(i + 1) !== 58) return false
    gap = 0
    i += 2
    if (i === end) {
      groups.fill(0)
      return true
    }
  }
  while (i < end) {
    // one group, or a trailing dotted quad
    let j = i
    let v = 0
    while (j < end && j - i < 5) {
      const h = hexValue(s.charCodeAt(j))
      if (h < 0) break
      v = (v << 4) | h
      j++
    }
    const stop = j < end ? s.charCodeAt(j) : -1
    if (stop === 46 /* . */) {
      // embedded IPv4 must be last and fit in two groups
      if (n > 6 || !isIpv4(s, i, end)) return false
      let a = 0
      let part = 0
      const quad = [0, 0, 0, 0]
      for (let k = i; k < end; k++) {
        const c = s.charCodeAt(k)
        if (c === 46) {
          quad[part++] = a
          a = 0
        } else a = a * 10 + (c - 48)
      }
      quad[3] = a
      groups[n++] = (quad[0] << 8) | quad[1]
      groups[n++] = (quad[2] << 8) | quad[3]
      i = end
      break
    }
    if (j === i || j - i > 4 || n === 8) return false
    groups[n++] = v
    if (j === end) {
      i = end
      break
    }
    if (stop !== 58) return false
    if (s.charCodeAt(j + 1) === 58) {
      if (gap !== -1) return false
      gap = n
      i = j + 2
      if (i === end) break
    } else {
      i = j + 1
      if (i === end) return false // trailing single colon
    }
  }
  if (gap === -1) return n === 8
  if (n === 8) return false // `::` must stand for at least one group
  const tail = n - gap
  for (let k = 0; k < tail; k++) groups[7 - k] = groups[n - 1 - k]
  for (let k = gap; k < 8 - tail; k++) groups[k] = 0
  return true
}

function formatIpv6(): string {
  // IPv4-mapped: ::ffff:a.b.c.d is the IPv4 client
  if (
    groups[0] === 0 &&
    groups[1] === 0 &&
    groups[2] === 0 &&
    groups[3] === 0 &&
    groups[4] === 0 &&
    groups[5] === 0xffff
  ) {
    return `${groups[6] >> 8}.${groups[6] & 255}.${groups[7] >> 8}.${groups[7] & 255}`
  }
  let bestStart = -1
  let bestLen = 1 // RFC 5952 4.2.2: a single zero group is not shortened
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLen) {
      bestStart = i
      bestLen = j - i
    }
    i = j
  }
  let out = ''
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += i === 0 ? '::' : ':'
      i += bestLen - 1
      continue
    }
    out += groups[i].toString(16)
    if (i < 7) out += ':'
  }
  return out
}

/** value of the dotted quad in s[start, end) as an unsigned 32-bit number, or -1 when not one (see `isIpv4`) */
function ipv4Value(s: string, start: number, end: number): number {
  const len = end - start
  if (len < 7 || len > 15) return -1
  let parts = 0
  let value = 0
  let digits = 0
  let key = 0
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i)
    if (c === 46 /* . */) {
      if (digits === 0 || parts === 3) return -1
      parts++
      key = key * 256 + value
      value = 0
      digits = 0
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && value === 0) return -1 // leading zero
      value = value * 10 + (c - 48)
      if (value > 255) return -1
      digits++
    } else {
      return -1
    }
  }
  return parts === 3 && digits > 0 ? key * 256 + value : -1
}

/**
 * IPv4 addresses seen lately, direct-mapped by value: an address that comes back is handed out as the same
 * string object, which detectors hash and compare in O(1) and which, unlike a slice of the line, does not keep
 * the line's chunk of log text alive wherever it is stored (sshd's connection table, detector state).
 */
const INTERN_BITS = 16
const internedValues = new Float64Array(1 << INTERN_BITS).fill(-1)
const internedTexts = new Array<string>(1 << INTERN_BITS).fill('')

function internIpv4(s: string, start: number, end: number, value: number): string {
  const cell = Math.imul(value | 0, 0x9e3779b1) >>> (32 - INTERN_BITS)
  if (internedValues[cell] === value) return internedTexts[cell]
  // concatenation then slicing makes a copy that does not keep `s` alive
  const text = (' ' + s.slice(start, end)).slice(1)
  internedValues[cell] = value
  internedTexts[cell] = text
  return text
}

/** Canonical dotted-quad IPv4 (no leading zeros) as a nonzero int32; 0 for anything else (and for 0.0.0.0). */
export function ipv4Key(ip: string): number {
  const value = ipv4Value(ip, 0, ip.length)
  return value === -1 ? 0 : value | 0
}

/**
 * The IPv4 key of `ip` (see `ipv4Key`), remembered for the last address: every detector asks for the key of
 * each event's address, and `canonicalIp` sets it as it parses, so a line's address is read only once.
 */
let lastIp = ''
let lastKey = 0
export function ipv4KeyOf(ip: string): number {
  if (ip === lastIp) return lastKey
  lastKey = ipv4Key(ip)
  lastIp = ip
  return lastKey
}

/** The dotted quad of an IPv4 key (`ipv4Key`'s inverse). */
export function formatIpv4(key: number): string {
  return `${key >>> 24}.${(key >>> 16) & 255}.${(key >>> 8) & 255}.${key & 255}`
}

/**
 * Tells `ipv4KeyOf` the key of `ip`, worked out elsewhere: a replay's detector threads get each event's address
 * with its key from the thread that parsed it (see `detect/event-batch.ts`).
 */
export function primeIpv4KeyOf(ip: string, key: number): void {
  lastIp = ip
  lastKey = key
}

/** Canonical text of the IP in s[start, end), or undefined when it is not an IP literal. */
export function canonicalIp(s: string, start = 0, end = s.length): string | undefined {
  const v4 = end - start > 6 ? ipv4Value(s, start, end) : -1
  if (v4 !== -1) {
    const text = internIpv4(s, start, end, v4)
    // what `ipv4Key` gives for it (0 for 0.0.0.0, its "not a key")
    lastIp = text
    lastKey = v4 | 0
    return text
  }
  if (s.indexOf(':', start) === -1) return undefined
  if (!parseIpv6(s, start, end)) return undefined
  const text = formatIpv6()
  // most logs already print canonical text: hand back the caller's string (or an interned slice) when equal
  if (start === 0 && end === s.length && text === s) return s
  return text
}
