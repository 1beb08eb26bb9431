import { encode } from 'cborg'
import fc from 'fast-check'
import { encodeLoose, writeHead } from './cbor-writer.ts'

/**
 * What an attacker does to a message: byte-level damage, hostile CBOR and field-level edits. Each is a plain
 * value fast-check generates and shrinks; `apply*` turns it into bytes.
 */

// ---- byte-level mutations ----

export type ByteOp =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'set'; at: number; value: number }
  | { op: 'truncate'; at: number }
  | { op: 'extend'; bytes: Uint8Array }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'delete'; at: number; count: number }
  | { op: 'duplicate'; at: number; count: number }
  | { op: 'swap'; a: number; b: number; count: number }
  | { op: 'splice'; at: number; from: number; count: number }

/** positions are fractions of whatever length the bytes have when the op runs */
const position = fc.nat({ max: 0xffff })
const smallBytes = fc.uint8Array({ minLength: 1, maxLength: 16 })

export const byteOpArb: fc.Arbitrary<ByteOp> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({ op: fc.constant('flip' as const), at: position, bit: fc.nat({ max: 7 }) }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ op: fc.constant('set' as const), at: position, value: fc.nat({ max: 255 }) }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('truncate' as const), at: position }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('extend' as const), bytes: smallBytes }) },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('insert' as const), at: position, bytes: smallBytes }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('delete' as const),
      at: position,
      count: fc.integer({ min: 1, max: 16 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('duplicate' as const),
      at: position,
      count: fc.integer({ min: 1, max: 16 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('swap' as const),
      a: position,
      b: position,
      count: fc.integer({ min: 1, max: 8 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('splice' as const),
      at: position,
      from: position,
      count: fc.integer({ min: 1, max: 64 }),
    }),
  },
)

export const byteOpsArb = fc.array(byteOpArb, { minLength: 1, maxLength: 4 })

/** a copy that never aliases: `slice` on a Node Buffer (what cborg hands out) is a view */
export const copyBytes = (b: Uint8Array): Uint8Array => new Uint8Array(b)

const idx = (at: number, length: number) => (length === 0 ? 0 : at % length)

function applyByteOp(bytes: Uint8Array, op: ByteOp, donor: Uint8Array): Uint8Array {
  const n = bytes.length
  switch (op.op) {
    case 'flip': {
      if (n === 0) return bytes
      const out = copyBytes(bytes)
      out[idx(op.at, n)] ^= 1 << op.bit
      return out
    }
    case 'set': {
      if (n === 0) return bytes
      const out = copyBytes(bytes)
      out[idx(op.at, n)] = op.value
      return out
    }
    case 'truncate':
      return copyBytes(bytes.subarray(0, idx(op.at, n)))
    case 'extend':
      return concat(bytes, op.bytes)
    case 'insert': {
      const at = idx(op.at, n + 1)
      return concat(bytes.subarray(0, at), op.bytes, bytes.subarray(at))
    }
    case 'delete': {
      const at = idx(op.at, n)
      return concat(bytes.subarray(0, at), bytes.subarray(at + op.count))
    }
    case 'duplicate': {
      const at = idx(op.at, n)
      const part = bytes.subarray(at, at + op.count)
      return concat(bytes.subarray(0, at), part, part, bytes.subarray(at + op.count))
    }
    case 'swap': {
      const out = copyBytes(bytes)
      const a = idx(op.a, n)
      const b = idx(op.b, n)
      const count = Math.min(op.count, n - a, n - b)
      const tmp = copyBytes(out.subarray(a, a + count))
      out.copyWithin(a, b, b + count)
      out.set(tmp, b)
      return out
    }
    case 'splice': {
      // a piece of another valid message: well-formed CBOR in the wrong place
      const at = idx(op.at, n)
      const from = idx(op.from, donor.length)
      return concat(
        bytes.subarray(0, at),
        donor.subarray(from, from + op.count),
        bytes.subarray(at + op.count),
      )
    }
  }
}

export function applyByteOps(
  bytes: Uint8Array,
  ops: readonly ByteOp[],
  donor: Uint8Array = bytes,
): Uint8Array {
  return ops.reduce((b, op) => applyByteOp(b, op, donor), bytes)
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

// ---- hostile values (what a field could be instead) ----

const ENVELOPE_WORDS = ['body', 'createdAt', 'expiresAt', 'sender', 'seq', 'signature', 'type', 'version']
const hostileKey = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', '', ...ENVELOPE_WORDS),
  fc.string({ maxLength: 12 }),
)

const hostileNumber = fc.oneof(
  fc.constantFrom(
    NaN,
    Infinity,
    -Infinity,
    -0,
    0,
    -1,
    0.5,
    1e-300,
    Number.MIN_VALUE,
    Number.MAX_VALUE,
    Number.MAX_SAFE_INTEGER,
    Number.MAX_SAFE_INTEGER + 1,
    2 ** 53 + 2,
    -(2 ** 53),
    2 ** 64,
    0xffff,
    0x10000,
    2 ** 31,
    2 ** 32,
  ),
  fc.double(),
  fc.integer(),
)

const hostileBigint = fc.oneof(
  fc.constantFrom(2n ** 64n - 1n, -(2n ** 64n), 2n ** 53n, -(2n ** 53n) - 1n),
  fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n - 1n }),
)

// the oversize values are rarer: a few in a hundred cases find what they find, and each costs a copy of 100 KB
const hostileString = fc.oneof(
  { weight: 6, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  fc.constantFrom(
    '\ud800',
    'a\udfffb',
    '\u0000',
    '203.0.113.7',
    '::',
    '0.0.0.0/0',
    'alert',
    'blocklist-summary',
  ),
  { weight: 2, arbitrary: fc.integer({ min: 60, max: 300 }).map((n) => 'a'.repeat(n)) },
  { weight: 1, arbitrary: fc.constant('x'.repeat(100_000)) },
)

const hostileBytes = fc.oneof(
  { weight: 5, arbitrary: fc.uint8Array({ maxLength: 70 }) },
  { weight: 3, arbitrary: fc.constantFrom(31, 32, 33, 63, 64, 65).map((n) => new Uint8Array(n).fill(0xa5)) },
  { weight: 1, arbitrary: fc.constant(new Uint8Array(300_000)) },
)

const leaf: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, undefined, true, false),
  hostileNumber,
  hostileBigint,
  hostileString,
  hostileBytes,
)

/** Any CBOR-able value a field could be swapped for: type confusion, specials, oversize, nesting. */
export const hostileValueArb: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 5, arbitrary: leaf },
    { weight: 2, arbitrary: fc.array(tie('value'), { maxLength: 4 }) },
    {
      weight: 2,
      arbitrary: fc
        .array(fc.tuple(hostileKey, tie('value')), { maxLength: 4 })
        .map((entries) => objectOf(entries)),
    },
    { weight: 1, arbitrary: fc.integer({ min: 1000, max: 5000 }).map((n) => new Array(n).fill(0)) },
  ),
})).value

/** An object with exactly these own keys (`__proto__` too, as an own property, the way a decoder makes it). */
export function objectOf(entries: readonly (readonly [string, unknown])[]): Record<string, unknown> {
  const o: Record<string, unknown> = {}
  for (const [k, v] of entries)
    Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true })
  return o
}

// ---- hostile CBOR bytes ----

const u8 = fc.nat({ max: 255 })

/** Bytes a decoder must refuse without crashing, stalling or allocating what a header claims. */
export const hostileCborArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  // any bytes
  fc.uint8Array({ maxLength: 64 }),
  // a head with any additional info (reserved 28..30, indefinite 31) and a short tail
  fc.tuple(u8, fc.uint8Array({ maxLength: 9 })).map(([h, tail]) => concat(Uint8Array.of(h), tail)),
  // a length or count far beyond the data: 2^64-1 bytes, 2^32 entries
  fc
    .tuple(
      fc.constantFrom(2, 3, 4, 5),
      fc.constantFrom(2n ** 64n - 1n, 2n ** 53n, 2n ** 32n, 2n ** 31n, 65_536n),
      fc.uint8Array({ maxLength: 8 }),
    )
    .map(([major, n, tail]) => {
      const head: number[] = []
      writeHead(head, major, n)
      return concat(Uint8Array.from(head), tail)
    }),
  // deep nesting: arrays, single-entry maps or tags, thousands deep
  fc
    .tuple(
      fc.constantFrom([0x81], [0xa1, 0x60], [0xd8, 0x18], [0x9f], [0xc6]),
      fc.integer({ min: 1, max: 20_000 }),
    )
    .map(([prefix, depth]) => {
      const out = new Uint8Array(prefix.length * depth + 1)
      for (let i = 0; i < depth; i++) out.set(prefix, i * prefix.length)
      out[out.length - 1] = 0x00
      return out
    }),
  // floats and simple values: NaN payloads, infinities, negative zero, reserved simple values
  fc.constantFrom(
    Uint8Array.of(0xf9, 0x7e, 0x00),
    Uint8Array.of(0xf9, 0x7c, 0x01),
    Uint8Array.of(0xf9, 0xfc, 0x00),
    Uint8Array.of(0xf9, 0x80, 0x00),
    Uint8Array.of(0xfa, 0x7f, 0xc0, 0x00, 0x00),
    Uint8Array.of(0xfb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 1),
    Uint8Array.of(0xf8, 0x10),
    Uint8Array.of(0xf8, 0xff),
    Uint8Array.of(0xf7),
    Uint8Array.of(0xff),
    Uint8Array.of(0x1c),
    Uint8Array.of(0x7f, 0x61, 0x61, 0x41, 0x61, 0xff),
    Uint8Array.of(0xa2, 0x61, 0x61, 0x00, 0x61, 0x61, 0x01),
  ),
  // a hostile value, spelled canonically or not
  fc.tuple(hostileValueArb, fc.array(fc.nat({ max: 15 }), { maxLength: 8 })).map(([v, choices]) => {
    try {
      return choices.length === 0 ? encode(v) : encodeLoose(v, choices)
    } catch {
      return Uint8Array.of(0xf6)
    }
  }),
)

// ---- field-level edits of a decoded message ----

export type FieldEdit =
  | { op: 'replace'; path: number; value: unknown }
  | { op: 'delete'; path: number }
  | { op: 'add'; path: number; key: string; value: unknown }
  | { op: 'swap'; path: number; other: number }
  | { op: 'nudge'; path: number; by: number }

export const fieldEditArb: fc.Arbitrary<FieldEdit> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ op: fc.constant('replace' as const), path: fc.nat(), value: hostileValueArb }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), path: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('add' as const),
      path: fc.nat(),
      key: hostileKey,
      value: hostileValueArb,
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('swap' as const), path: fc.nat(), other: fc.nat() }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('nudge' as const),
      path: fc.nat(),
      by: fc.constantFrom(1, -1, 1000, -1000, 0.5, 2 ** 32, -(2 ** 53)),
    }),
  },
)

type Container = Record<string, unknown> | unknown[]

/** Every (container, key) in a decoded value, depth first, bytes and strings as leaves. */
function slots(root: Container, max = 256): [Container, string | number][] {
  const out: [Container, string | number][] = []
  const visit = (c: Container, depth: number) => {
    const keys: (string | number)[] = Array.isArray(c) ? c.map((_, i) => i) : Object.keys(c)
    for (const k of keys) {
      if (out.length >= max) return
      out.push([c, k])
      const v = (c as Record<string | number, unknown>)[k]
      if (depth < 4 && v !== null && typeof v === 'object' && !(v instanceof Uint8Array))
        visit(v as Container, depth + 1)
    }
  }
  visit(root, 0)
  return out
}

function clone(v: unknown): unknown {
  if (v instanceof Uint8Array) return copyBytes(v)
  if (Array.isArray(v)) return v.map(clone)
  if (v !== null && typeof v === 'object') return objectOf(Object.entries(v).map(([k, x]) => [k, clone(x)]))
  return v
}

/** A copy of `decoded` with the edits made; paths index `slots` of the value as it is at each step. */
export function applyFieldEdits(
  decoded: Record<string, unknown>,
  edits: readonly FieldEdit[],
): Record<string, unknown> {
  const root = clone(decoded) as Record<string, unknown>
  for (const edit of edits) {
    const all = slots(root)
    if (all.length === 0) continue
    const [container, key] = all[edit.path % all.length]
    const get = () => (container as Record<string | number, unknown>)[key]
    const set = (v: unknown) => {
      Object.defineProperty(container, key, {
        value: v,
        enumerable: true,
        writable: true,
        configurable: true,
      })
    }
    switch (edit.op) {
      // generated values are copied in: later edits must not change what fast-check generated (it replays them)
      case 'replace':
        set(clone(edit.value))
        break
      case 'delete':
        if (Array.isArray(container)) container.splice(Number(key), 1)
        else delete container[key as string]
        break
      case 'add':
        if (Array.isArray(container)) container.push(clone(edit.value))
        else
          Object.defineProperty(container, edit.key, {
            value: clone(edit.value),
            enumerable: true,
            writable: true,
            configurable: true,
          })
        break
      case 'swap': {
        const [other, otherKey] = all[edit.other % all.length]
        const a = get()
        const b = (other as Record<string | number, unknown>)[otherKey]
        set(b)
        Object.defineProperty(other, otherKey, {
          value: a,
          enumerable: true,
          writable: true,
          configurable: true,
        })
        break
      }
      case 'nudge': {
        const v = get()
        if (typeof v === 'number') set(v + edit.by)
        else if (typeof v === 'bigint') set(v + BigInt(Math.trunc(edit.by)))
        else if (typeof v === 'string') set(v + String.fromCharCode(0x30 + (Math.abs(edit.by) % 40)))
        else if (v instanceof Uint8Array && v.length > 0) {
          const b = copyBytes(v)
          b[Math.abs(edit.by) % b.length] ^= 1
          set(b)
        } else if (typeof v === 'boolean') set(!v)
        break
      }
    }
  }
  return root
}
