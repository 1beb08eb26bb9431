/**
 * A CBOR writer that takes every liberty the canonical encoder does not: wider integer and length heads than
 * needed, indefinite lengths, unsorted map keys, floats for integers, wider floats, tags. The fuzzer spells valid
 * messages with it to check that only the one canonical spelling is ever accepted. Each liberty is a choice
 * read from a list (cycled), so fast-check generates and shrinks the spelling; all zeros is the canonical one.
 */

class Out {
  chunks: number[] = []
  push(...bytes: number[]): void {
    for (const b of bytes) this.chunks.push(b & 0xff)
  }
  pushBytes(bytes: Uint8Array): void {
    for (const b of bytes) this.chunks.push(b)
  }
}

class Choices {
  readonly #list: readonly number[]
  #at = 0
  constructor(list: readonly number[]) {
    this.#list = list
  }
  /** 0..n-1; 0 is the canonical choice */
  pick(n: number): number {
    if (this.#list.length === 0) return 0
    const v = this.#list[this.#at++ % this.#list.length]
    return Math.abs(v) % n
  }
}

/** head widths: additional info 0..23 inline, then 1, 2, 4, 8 bytes */
const WIDTHS = [0, 1, 2, 4, 8] as const

function minimalWidth(n: bigint): number {
  if (n < 24n) return 0
  if (n < 0x100n) return 1
  if (n < 0x10000n) return 2
  if (n < 0x100000000n) return 3
  return 4
}

/** A head (major type and argument) at the given width (index into 0, 1, 2, 4, 8 bytes); minimal by default. */
export function writeHead(
  target: { push(...bytes: number[]): unknown },
  major: number,
  value: number | bigint,
  widthIndex?: number,
): void {
  const n = BigInt(value)
  const w = widthIndex ?? minimalWidth(n)
  if (w === 0) {
    target.push(((major << 5) | Number(n)) & 0xff)
    return
  }
  const size = WIDTHS[w]
  target.push(((major << 5) | (23 + w)) & 0xff)
  for (let i = size - 1; i >= 0; i--) target.push(Number((n >> BigInt(8 * i)) & 0xffn))
}

function head(out: Out, c: Choices, major: number, value: number | bigint): void {
  const n = BigInt(value)
  const min = minimalWidth(n)
  // a wider head than needed is a non-canonical spelling of the same number
  const w = Math.min(4, min + c.pick(3) * (c.pick(2) === 0 ? 0 : 1))
  writeHead(out, major, n, w)
}

const f32 = new Float32Array(1)

function fitsFloat16(x: number): boolean {
  if (!Number.isFinite(x)) return true
  if (x === 0) return true
  const half = toFloat16Bits(x)
  return fromFloat16Bits(half) === x
}

function toFloat16Bits(x: number): number {
  // exact only for values float16 can hold; fitsFloat16 checks the round trip
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0
  const a = Math.abs(x)
  if (Number.isNaN(x)) return 0x7e00
  if (a === Infinity) return sign | 0x7c00
  if (a === 0) return sign
  let e = Math.floor(Math.log2(a))
  if (e < -14) return sign | Math.round(a / 2 ** -24) // subnormal
  if (e > 15) return sign | 0x7c00
  let m = Math.round((a / 2 ** e - 1) * 1024)
  if (m === 1024) {
    m = 0
    e++
  }
  return sign | ((e + 15) << 10) | m
}

function fromFloat16Bits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1
  const e = (h >> 10) & 0x1f
  const m = h & 0x3ff
  if (e === 0) return sign * m * 2 ** -24
  if (e === 31) return m ? NaN : sign * Infinity
  return sign * (1 + m / 1024) * 2 ** (e - 15)
}

function writeFloat(out: Out, c: Choices, x: number): void {
  f32[0] = x
  const fits32 = Number.isNaN(x) || f32[0] === x
  // canonical: the shortest form that holds the value; a liberty: any wider one
  const shortest = fitsFloat16(x) ? 0 : fits32 ? 1 : 2
  const form = Math.min(2, shortest + c.pick(3))
  if (form === 0) {
    const h = toFloat16Bits(x)
    out.push(0xf9, h >> 8, h)
  } else if (form === 1) {
    const b = new Uint8Array(4)
    new DataView(b.buffer).setFloat32(0, x)
    out.push(0xfa)
    out.pushBytes(b)
  } else {
    const b = new Uint8Array(8)
    new DataView(b.buffer).setFloat64(0, x)
    out.push(0xfb)
    out.pushBytes(b)
  }
}

const utf8 = new TextEncoder()

function compareKeys(a: Uint8Array, b: Uint8Array): number {
  // RFC 7049 canonical: shorter first, then bytewise
  if (a.length !== b.length) return a.length - b.length
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i]
  return 0
}

function write(out: Out, c: Choices, value: unknown, depth: number): void {
  if (depth > 64) throw new RangeError('too deep for the loose writer')
  if (c.pick(16) === 15) {
    // a tag around anything: self-describe (55799) or "encoded CBOR" (24)
    head(out, c, 6, c.pick(2) === 0 ? 55799 : 24)
  }
  if (value === null) return out.push(0xf6)
  if (value === undefined) return out.push(0xf7)
  if (value === false) return out.push(0xf4)
  if (value === true) return out.push(0xf5)
  if (typeof value === 'bigint') {
    return value >= 0n ? head(out, c, 0, value) : head(out, c, 1, -1n - value)
  }
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value) && !Object.is(value, -0) && c.pick(8) !== 7) {
      return value >= 0 ? head(out, c, 0, value) : head(out, c, 1, -1 - value)
    }
    return writeFloat(out, c, value)
  }
  if (typeof value === 'string') return writeString(out, c, 3, utf8.encode(value))
  if (value instanceof Uint8Array) return writeString(out, c, 2, value)
  if (Array.isArray(value)) {
    const indefinite = c.pick(6) === 5
    if (indefinite) out.push(0x9f)
    else head(out, c, 4, value.length)
    for (const item of value) write(out, c, item, depth + 1)
    if (indefinite) out.push(0xff)
    return
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).map(
      ([k, v]) => [utf8.encode(k), v] as const,
    )
    const order = c.pick(4)
    if (order === 0 || order === 1) entries.sort((a, b) => compareKeys(a[0], b[0]))
    if (order === 2) entries.sort((a, b) => compareKeys(b[0], a[0]))
    const indefinite = c.pick(6) === 5
    if (indefinite) out.push(0xbf)
    else head(out, c, 5, entries.length)
    for (const [k, v] of entries) {
      writeString(out, c, 3, k)
      write(out, c, v, depth + 1)
    }
    if (indefinite) out.push(0xff)
    return
  }
  throw new TypeError(`cannot write ${typeof value}`)
}

function writeString(out: Out, c: Choices, major: 2 | 3, bytes: Uint8Array): void {
  if (c.pick(6) === 5 && bytes.length > 0) {
    // indefinite length, in two chunks
    out.push((major << 5) | 31)
    const cut = c.pick(bytes.length + 1)
    for (const part of [bytes.subarray(0, cut), bytes.subarray(cut)]) {
      head(out, c, major, part.length)
      out.pushBytes(part)
    }
    out.push(0xff)
    return
  }
  head(out, c, major, bytes.length)
  out.pushBytes(bytes)
}

/** `value` in CBOR, spelled as `choices` say (an empty list gives the canonical spelling). */
export function encodeLoose(value: unknown, choices: readonly number[]): Uint8Array {
  const out = new Out()
  write(out, new Choices(choices), value, 0)
  return Uint8Array.from(out.chunks)
}
