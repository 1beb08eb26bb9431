import { formatIp, parseIndicator, parseIp, type Indicator } from '../../protocol/indicator.ts'
import { isIpv4Mapped } from '../../protocol/indicator-ip.ts'

/** A network as protocol/indicator.ts gives it: 4 or 16 bytes and a prefix length. */
export type Prefix = Pick<Indicator, 'family' | 'bytes' | 'prefix'>

const NONE = -1
/** Open addressing stays fast below half full; above it, probe chains grow quickly. */
const MAX_LOAD = 0.5
const INITIAL_HOSTS = 64
const INITIAL_NODES = 64
/**
 * IPv4 prefixes of /16 and longer live in one small trie per /16 block, found by direct index, so a lookup
 * skips the sixteen levels of branching that a single trie of random prefixes would walk first. IPv6 keeps one
 * trie: its prefixes are few and cluster under a handful of top bits.
 */
const IPV4_BLOCK_BITS = 16

// Every public call converts its key here first, so lookups allocate nothing beyond what parsing does.
const scratch = new Uint32Array(4)

function fmix(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

function hashAt(keys: Uint32Array, at: number, words: number): number {
  let h = 0x9e3779b9
  for (let i = 0; i < words; i++) h = fmix(h ^ keys[at + i])
  return h
}

/** Bit `i` (0 = most significant) of the key starting at keys[at]. */
function bitAt(keys: Uint32Array, at: number, i: number): number {
  return (keys[at + (i >>> 5)] >>> (31 - (i & 31))) & 1
}

/** How many leading bits the two keys share. */
function commonBits(a: Uint32Array, at: number, b: Uint32Array, bt: number, words: number): number {
  for (let i = 0; i < words; i++) {
    const x = a[at + i] ^ b[bt + i]
    if (x !== 0) return i * 32 + Math.clz32(x)
  }
  return words * 32
}

function maskWords(k: Uint32Array, words: number, prefix: number): void {
  for (let i = 0; i < words; i++) {
    const keep = Math.min(32, Math.max(0, prefix - 32 * i))
    k[i] = keep === 0 ? 0 : keep === 32 ? k[i] : (k[i] & (0xffffffff << (32 - keep))) >>> 0
  }
}

function wordsToBytes(keys: Uint32Array, at: number, words: number): Uint8Array {
  const bytes = new Uint8Array(words * 4)
  for (let i = 0; i < words; i++) {
    const w = keys[at + i]
    bytes[4 * i] = w >>> 24
    bytes[4 * i + 1] = (w >>> 16) & 0xff
    bytes[4 * i + 2] = (w >>> 8) & 0xff
    bytes[4 * i + 3] = w & 0xff
  }
  return bytes
}

/** Bytes into `scratch`; 16-byte IPv4-mapped keys of /96 or longer become IPv4, as in protocol/indicator.ts. */
function loadKey(bytes: Uint8Array, prefix: number): { family: 4 | 6; prefix: number } {
  let offset = 0
  let family: 4 | 6 = bytes.length === 4 ? 4 : 6
  if (family === 6 && prefix >= 96 && isIpv4Mapped(bytes)) {
    offset = 12
    prefix -= 96
    family = 4
  }
  const words = family === 4 ? 1 : 4
  for (let i = 0; i < words; i++) {
    const o = offset + 4 * i
    scratch[i] = ((bytes[o] << 24) | (bytes[o + 1] << 16) | (bytes[o + 2] << 8) | bytes[o + 3]) >>> 0
  }
  maskWords(scratch, words, prefix)
  return { family, prefix }
}

function toPrefix(key: string | Prefix): Prefix {
  if (typeof key === 'string') return parseIndicator(key)
  if (!(key.bytes instanceof Uint8Array) || (key.bytes.length !== 4 && key.bytes.length !== 16)) {
    throw new RangeError('a prefix has 4 or 16 bytes')
  }
  const bits = key.bytes.length * 8
  if (!Number.isInteger(key.prefix) || key.prefix < 0 || key.prefix > bits) {
    throw new RangeError(`prefix length must be 0..${bits}`)
  }
  return key
}

/**
 * One address family: full-length keys (/32, /128 — the bulk of any blocklist) in an open-addressing hash
 * table, shorter prefixes in a path-compressed binary trie. Both are flat typed arrays with each slot's fields
 * side by side (one cache line per probe or trie step), plus one array of values, so a million entries cost a
 * few buffers rather than a million node objects.
 */
class FamilyTable<V> {
  readonly words: number
  readonly bits: number

  // hosts: linear probing, backward-shift deletion (no tombstones); slot i is [used, key words...] at i * HS
  readonly #hs: number
  #hostCap = INITIAL_HOSTS
  #hosts: Uint32Array
  #hostValues: (V | undefined)[]
  hostCount = 0

  // trie: node n is [key words..., len, child0, child1, hasValue] at n * NS; node 0 is the root (/0) and always
  // exists; freed nodes chain through child0
  readonly #ns: number
  #nodeCap = INITIAL_NODES
  #buffer: ArrayBuffer
  #nk: Uint32Array
  #ni: Int32Array
  #nodeValues: (V | undefined)[]
  #nodesUsed = 1
  #freeHead = NONE
  prefixCount = 0
  /** per block, the node for the block's own prefix (holding a value or not), or NONE; empty when unused */
  readonly #blockBits: number
  readonly #blockRoots: Int32Array
  /** values in the main trie (prefixes shorter than a block), so lookups skip it when it holds none */
  #shortCount = 0

  constructor(words: number, blockBits = 0) {
    this.words = words
    this.bits = words * 32
    this.#hs = words + 1
    this.#hosts = new Uint32Array(this.#hostCap * this.#hs)
    this.#hostValues = new Array(this.#hostCap).fill(undefined)
    this.#ns = words + 4
    this.#buffer = new ArrayBuffer(this.#nodeCap * this.#ns * 4)
    this.#nk = new Uint32Array(this.#buffer)
    this.#ni = new Int32Array(this.#buffer)
    this.#nodeValues = new Array(this.#nodeCap).fill(undefined)
    this.#ni[words + 1] = NONE
    this.#ni[words + 2] = NONE
    this.#blockBits = blockBits
    this.#blockRoots = new Int32Array(blockBits > 0 ? 1 << blockBits : 0).fill(NONE)
  }

  /** Whether k/len lives in a block trie. */
  #inBlock(len: number): boolean {
    return this.#blockBits > 0 && len >= this.#blockBits
  }

  #block(k: Uint32Array): number {
    return k[0] >>> (32 - this.#blockBits)
  }

  get size(): number {
    return this.hostCount + this.prefixCount
  }

  /** Approximate bytes held in typed arrays and value slots (not the values themselves). */
  get footprint(): number {
    return (
      this.#hostCap * (this.#hs * 4 + 4) + this.#nodeCap * (this.#ns * 4 + 4) + this.#blockRoots.byteLength
    )
  }

  // ---- hosts ----

  #hostFind(k: Uint32Array): number {
    const mask = this.#hostCap - 1
    const W = this.words
    const HS = this.#hs
    const hosts = this.#hosts
    let i = hashAt(k, 0, W) & mask
    while (hosts[i * HS] === 1) {
      if (commonBits(hosts, i * HS + 1, k, 0, W) === this.bits) return i
      i = (i + 1) & mask
    }
    return NONE - i // the empty slot where the key would go, encoded below NONE
  }

  #hostSet(k: Uint32Array, value: V): void {
    let slot = this.#hostFind(k)
    if (slot >= 0) {
      this.#hostValues[slot] = value
      return
    }
    if (this.hostCount + 1 > this.#hostCap * MAX_LOAD) {
      this.#hostGrow()
      slot = this.#hostFind(k)
    }
    const i = NONE - slot
    this.#hosts[i * this.#hs] = 1
    this.#hosts.set(k.subarray(0, this.words), i * this.#hs + 1)
    this.#hostValues[i] = value
    this.hostCount++
  }

  #hostGrow(): void {
    const W = this.words
    const HS = this.#hs
    const old = this.#hosts
    const oldValues = this.#hostValues
    const oldCap = this.#hostCap
    this.#hostCap *= 2
    const hosts = (this.#hosts = new Uint32Array(this.#hostCap * HS))
    this.#hostValues = new Array(this.#hostCap).fill(undefined)
    const mask = this.#hostCap - 1
    for (let j = 0; j < oldCap; j++) {
      if (old[j * HS] === 0) continue
      let i = hashAt(old, j * HS + 1, W) & mask
      while (hosts[i * HS] === 1) i = (i + 1) & mask
      hosts.set(old.subarray(j * HS, j * HS + HS), i * HS)
      this.#hostValues[i] = oldValues[j]
    }
  }

  #hostDelete(k: Uint32Array): boolean {
    let i = this.#hostFind(k)
    if (i < 0) return false
    const W = this.words
    const HS = this.#hs
    const hosts = this.#hosts
    const mask = this.#hostCap - 1
    hosts[i * HS] = 0
    this.#hostValues[i] = undefined
    this.hostCount--
    // Pull later members of the probe chain back so every key stays reachable from its home slot.
    let j = i
    for (;;) {
      j = (j + 1) & mask
      if (hosts[j * HS] === 0) return true
      const home = hashAt(hosts, j * HS + 1, W) & mask
      const stays = i <= j ? i < home && home <= j : i < home || home <= j
      if (stays) continue
      hosts.copyWithin(i * HS, j * HS, j * HS + HS)
      this.#hostValues[i] = this.#hostValues[j]
      hosts[j * HS] = 0
      this.#hostValues[j] = undefined
      i = j
    }
  }

  // ---- trie ----

  #len(n: number): number {
    return this.#ni[n * this.#ns + this.words]
  }

  /** Index in #ni of n's child on `side` (0 or 1). */
  #childAt(n: number, side: number): number {
    return n * this.#ns + this.words + 1 + side
  }

  #child(n: number, side: number): number {
    return this.#ni[n * this.#ns + this.words + 1 + side]
  }

  #has(n: number): boolean {
    return this.#ni[n * this.#ns + this.words + 3] === 1
  }

  #setHas(n: number, has: boolean): void {
    this.#ni[n * this.#ns + this.words + 3] = has ? 1 : 0
  }

  #alloc(k: Uint32Array, len: number): number {
    let n = this.#freeHead
    if (n !== NONE) {
      this.#freeHead = this.#child(n, 0)
    } else {
      if (this.#nodesUsed === this.#nodeCap) this.#nodeGrow()
      n = this.#nodesUsed++
    }
    const W = this.words
    const at = n * this.#ns
    this.#nk.set(k.subarray(0, W), at)
    maskWords(this.#nk.subarray(at, at + W), W, len)
    this.#ni[at + W] = len
    this.#ni[at + W + 1] = NONE
    this.#ni[at + W + 2] = NONE
    this.#ni[at + W + 3] = 0
    return n
  }

  #free(n: number): void {
    this.#nodeValues[n] = undefined
    this.#setHas(n, false)
    this.#ni[this.#childAt(n, 1)] = NONE
    this.#ni[this.#childAt(n, 0)] = this.#freeHead
    this.#freeHead = n
  }

  #nodeGrow(): void {
    const cap = this.#nodeCap * 2
    const buffer = new ArrayBuffer(cap * this.#ns * 4)
    new Uint8Array(buffer).set(new Uint8Array(this.#buffer))
    this.#buffer = buffer
    this.#nk = new Uint32Array(buffer)
    this.#ni = new Int32Array(buffer)
    for (let i = this.#nodeCap; i < cap; i++) this.#nodeValues.push(undefined)
    this.#nodeCap = cap
  }

  /** How many leading bits node n's key shares with k. */
  #matches(n: number, k: Uint32Array): number {
    if (this.words === 1) return Math.clz32(this.#nk[n * this.#ns] ^ k[0])
    return commonBits(this.#nk, n * this.#ns, k, 0, this.words)
  }

  #trieSet(k: Uint32Array, len: number, value: V): void {
    let n = 0
    if (this.#inBlock(len)) {
      const b = this.#block(k)
      n = this.#blockRoots[b]
      if (n === NONE) n = this.#blockRoots[b] = this.#alloc(k, this.#blockBits)
    } else if (this.#trieFind(k, len) === undefined) {
      this.#shortCount++
    }
    for (;;) {
      const nl = this.#len(n)
      if (nl === len) {
        if (!this.#has(n)) this.prefixCount++
        this.#setHas(n, true)
        this.#nodeValues[n] = value
        return
      }
      const side = this.#childAt(n, bitAt(k, 0, nl))
      const c = this.#ni[side]
      if (c === NONE) {
        const leaf = this.#leaf(k, len, value)
        this.#ni[side] = leaf
        return
      }
      const cl = this.#len(c)
      const m = Math.min(this.#matches(c, k), cl, len)
      if (m === cl) {
        n = c
        continue
      }
      if (m === len) {
        // the new prefix sits between n and c
        const leaf = this.#leaf(k, len, value)
        this.#ni[this.#childAt(leaf, bitAt(this.#nk, c * this.#ns, len))] = c
        this.#ni[side] = leaf
        return
      }
      const glue = this.#alloc(k, m)
      const leaf = this.#leaf(k, len, value)
      this.#ni[this.#childAt(glue, bitAt(k, 0, m))] = leaf
      this.#ni[this.#childAt(glue, bitAt(this.#nk, c * this.#ns, m))] = c
      this.#ni[side] = glue
      return
    }
  }

  #leaf(k: Uint32Array, len: number, value: V): number {
    const n = this.#alloc(k, len)
    this.#setHas(n, true)
    this.#nodeValues[n] = value
    this.prefixCount++
    return n
  }

  /** The node holding exactly k/len, with its parent and grandparent, or undefined. */
  #trieFind(k: Uint32Array, len: number): { n: number; parent: number; grand: number } | undefined {
    let n = this.#inBlock(len) ? this.#blockRoots[this.#block(k)] : 0
    if (n === NONE) return undefined
    let parent = NONE
    let grand = NONE
    for (;;) {
      const nl = this.#len(n)
      if (nl > len || this.#matches(n, k) < nl) return undefined
      if (nl === len) return this.#has(n) ? { n, parent, grand } : undefined
      grand = parent
      parent = n
      n = this.#child(n, bitAt(k, 0, nl))
      if (n === NONE) return undefined
    }
  }

  #replaceChild(parent: number, from: number, to: number): void {
    this.#ni[this.#childAt(parent, this.#child(parent, 0) === from ? 0 : 1)] = to
  }

  #trieDelete(k: Uint32Array, len: number): boolean {
    const found = this.#trieFind(k, len)
    if (found === undefined) return false
    const { n, parent, grand } = found
    this.prefixCount--
    if (!this.#inBlock(len)) this.#shortCount--
    this.#setHas(n, false)
    this.#nodeValues[n] = undefined
    const c0 = this.#child(n, 0)
    const c1 = this.#child(n, 1)
    // roots (the /0 node, a block's node) stay while anything hangs below them
    if (parent === NONE) {
      if (n !== 0 && c0 === NONE && c1 === NONE) this.#dropBlock(k, n)
      return true
    }
    if (c0 !== NONE && c1 !== NONE) return true // still needed as a branch point
    if (c0 !== NONE || c1 !== NONE) {
      this.#replaceChild(parent, n, c0 !== NONE ? c0 : c1)
      this.#free(n)
      return true
    }
    this.#replaceChild(parent, n, NONE)
    this.#free(n)
    if (this.#has(parent)) return true
    const p0 = this.#child(parent, 0)
    const p1 = this.#child(parent, 1)
    if (grand === NONE) {
      // a valueless block root left with nothing below it
      if (parent !== 0 && p0 === NONE && p1 === NONE) this.#dropBlock(k, parent)
      return true
    }
    // a valueless parent left with one child is a glue node that no longer joins anything
    this.#replaceChild(grand, parent, p0 !== NONE ? p0 : p1)
    this.#free(parent)
    return true
  }

  #dropBlock(k: Uint32Array, n: number): void {
    this.#blockRoots[this.#block(k)] = NONE
    this.#free(n)
  }

  // ---- public per-family operations (key already in scratch) ----

  set(k: Uint32Array, len: number, value: V): void {
    if (len === this.bits) this.#hostSet(k, value)
    else this.#trieSet(k, len, value)
  }

  get(k: Uint32Array, len: number): V | undefined {
    if (len === this.bits) {
      const slot = this.#hostFind(k)
      return slot >= 0 ? this.#hostValues[slot] : undefined
    }
    const found = this.#trieFind(k, len)
    return found === undefined ? undefined : this.#nodeValues[found.n]
  }

  delete(k: Uint32Array, len: number): boolean {
    return len === this.bits ? this.#hostDelete(k) : this.#trieDelete(k, len)
  }

  /**
   * Values of every prefix of length <= len containing k/len, most specific first, pushed onto `out`. The walk
   * follows k's bits and checks a node's whole prefix only where it holds a value: when that check fails,
   * nothing below can match either, so branch-only nodes never need one.
   */
  covering(k: Uint32Array, len: number, out: V[]): V[] {
    if (len === this.bits && this.hostCount > 0) {
      const slot = this.#hostFind(k)
      if (slot >= 0) out.push(this.#hostValues[slot] as V)
    }
    if (this.prefixCount === 0) return out
    const start = out.length
    if (this.#shortCount > 0) this.#walk(0, k, len, out)
    if (this.#inBlock(len)) {
      const root = this.#blockRoots[this.#block(k)]
      if (root !== NONE) this.#walk(root, k, len, out)
    }
    // the walks found them general first
    for (let i = start, j = out.length - 1; i < j; i++, j--) {
      const t = out[i]
      out[i] = out[j]
      out[j] = t
    }
    return out
  }

  /** Values on the path from node n that contain k/len, general first, pushed onto `out`. */
  #walk(n: number, k: Uint32Array, len: number, out: V[]): void {
    const ni = this.#ni
    const NS = this.#ns
    const W = this.words
    for (;;) {
      const at = n * NS + W
      const nl = ni[at]
      if (nl > len) return
      if (ni[at + 3] === 1) {
        if (this.#matches(n, k) < nl) return
        out.push(this.#nodeValues[n] as V)
      }
      n = ni[at + 1 + bitAt(k, 0, nl)]
      if (n === NONE) return
    }
  }

  /** Whether any prefix contains k/len; the cheap form of covering for allowlist checks. */
  anyCovering(k: Uint32Array, len: number): boolean {
    if (len === this.bits && this.hostCount > 0 && this.#hostFind(k) >= 0) return true
    if (this.prefixCount === 0) return false
    if (this.#shortCount > 0 && this.#anyOnPath(0, k, len)) return true
    if (!this.#inBlock(len)) return false
    const root = this.#blockRoots[this.#block(k)]
    return root !== NONE && this.#anyOnPath(root, k, len)
  }

  #anyOnPath(n: number, k: Uint32Array, len: number): boolean {
    for (;;) {
      const nl = this.#len(n)
      if (nl > len) return false
      // the first value on the path decides: if it does not match, nothing below it does
      if (this.#has(n)) return this.#matches(n, k) >= nl
      n = this.#child(n, bitAt(k, 0, nl))
      if (n === NONE) return false
    }
  }

  /**
   * Values of every prefix strictly inside k/len, pushed onto `out`. Trie prefixes come from one subtree; host
   * entries need a scan of the host table unless len is full length, so this is for rare events such as an
   * allowlist change, not for the lookup path.
   */
  within(k: Uint32Array, len: number, out: V[]): V[] {
    if (len === this.bits) return out
    if (this.#inBlock(len)) {
      const root = this.#blockRoots[this.#block(k)]
      if (root !== NONE) this.#subtreeWithin(root, k, len, out)
    } else {
      this.#subtreeWithin(0, k, len, out)
      if (this.#blockBits > 0) {
        // every block inside k/len
        const first = this.#block(k)
        const count = 1 << (this.#blockBits - len)
        for (let b = first; b < first + count; b++) {
          const root = this.#blockRoots[b]
          if (root !== NONE) this.#collect(root, len, out)
        }
      }
    }
    return this.#hostsWithin(k, len, out)
  }

  /** Values strictly inside k/len in the trie rooted at n. */
  #subtreeWithin(n: number, k: Uint32Array, len: number, out: V[]): void {
    for (;;) {
      const nl = this.#len(n)
      if (nl >= len) break
      if (this.#matches(n, k) < nl) return
      n = this.#child(n, bitAt(k, 0, nl))
      if (n === NONE) return
    }
    if (this.#matches(n, k) >= len) this.#collect(n, len, out)
  }

  /** Values longer than `len` in the subtree of n. */
  #collect(n: number, len: number, out: V[]): void {
    const stack = [n]
    while (stack.length > 0) {
      const m = stack.pop() as number
      if (this.#has(m) && this.#len(m) > len) out.push(this.#nodeValues[m] as V)
      if (this.#child(m, 0) !== NONE) stack.push(this.#child(m, 0))
      if (this.#child(m, 1) !== NONE) stack.push(this.#child(m, 1))
    }
  }

  #hostsWithin(k: Uint32Array, len: number, out: V[]): V[] {
    if (this.hostCount === 0) return out
    const W = this.words
    const HS = this.#hs
    for (let i = 0; i < this.#hostCap; i++) {
      if (this.#hosts[i * HS] === 1 && commonBits(this.#hosts, i * HS + 1, k, 0, W) >= len) {
        out.push(this.#hostValues[i] as V)
      }
    }
    return out
  }

  *values(): Generator<V> {
    for (let i = 0; i < this.#hostCap; i++)
      if (this.#hosts[i * this.#hs] === 1) yield this.#hostValues[i] as V
    for (let n = 0; n < this.#nodesUsed; n++) if (this.#has(n)) yield this.#nodeValues[n] as V
  }

  *entries(): Generator<[Uint8Array, number, V]> {
    const W = this.words
    const HS = this.#hs
    for (let i = 0; i < this.#hostCap; i++) {
      if (this.#hosts[i * HS] === 1)
        yield [wordsToBytes(this.#hosts, i * HS + 1, W), this.bits, this.#hostValues[i] as V]
    }
    for (let n = 0; n < this.#nodesUsed; n++) {
      if (this.#has(n))
        yield [wordsToBytes(this.#nk, n * this.#ns, W), this.#len(n), this.#nodeValues[n] as V]
    }
  }
}

/**
 * Maps IPv4 and IPv6 prefixes (addresses and CIDRs) to values and answers "which entries cover this address",
 * most specific first. Keys are canonicalised as protocol/indicator.ts does, so `::ffff:1.2.3.4` is the IPv4
 * address 1.2.3.4 and `::ffff:10.0.0.0/104` is 10.0.0.0/8; a real IPv6 prefix such as `::/0` never covers
 * IPv4 (families never mix). String keys that do not parse throw InvalidIndicatorError; addresses given to
 * lookups that do not parse simply match nothing.
 */
export class CidrTrie<V> {
  readonly #v4 = new FamilyTable<V>(1, IPV4_BLOCK_BITS)
  readonly #v6 = new FamilyTable<V>(4)

  get size(): number {
    return this.#v4.size + this.#v6.size
  }

  /** Approximate bytes of index structure (typed arrays and value slots), excluding the values. */
  get footprint(): number {
    return this.#v4.footprint + this.#v6.footprint
  }

  #load(key: string | Prefix): { table: FamilyTable<V>; len: number } {
    const p = toPrefix(key)
    const { family, prefix } = loadKey(p.bytes, p.prefix)
    return { table: family === 4 ? this.#v4 : this.#v6, len: prefix }
  }

  /** Loads an address into scratch, or returns undefined for anything that is not one. */
  #loadAddress(ip: string | Uint8Array): FamilyTable<V> | undefined {
    const bytes = typeof ip === 'string' ? parseIp(ip) : ip
    if (!(bytes instanceof Uint8Array) || (bytes.length !== 4 && bytes.length !== 16)) return undefined
    const { family } = loadKey(bytes, bytes.length * 8)
    return family === 4 ? this.#v4 : this.#v6
  }

  set(key: string | Prefix, value: V): this {
    const { table, len } = this.#load(key)
    table.set(scratch, len, value)
    return this
  }

  /** The value stored for exactly this prefix. */
  get(key: string | Prefix): V | undefined {
    const { table, len } = this.#load(key)
    return table.get(scratch, len)
  }

  has(key: string | Prefix): boolean {
    return this.get(key) !== undefined
  }

  delete(key: string | Prefix): boolean {
    const { table, len } = this.#load(key)
    return table.delete(scratch, len)
  }

  /** Values of every prefix containing the address, most specific first; [] for anything not an address. */
  covering(ip: string | Uint8Array): V[] {
    const table = this.#loadAddress(ip)
    return table === undefined ? [] : table.covering(scratch, table.bits, [])
  }

  /** Whether any prefix contains the address. */
  covers(ip: string | Uint8Array): boolean {
    const table = this.#loadAddress(ip)
    return table !== undefined && table.anyCovering(scratch, table.bits)
  }

  /**
   * Values of every prefix that shares an address with `key`: those containing it (itself included), most
   * specific first, then those inside it. Scans the host entries when `key` is a range.
   */
  overlapping(key: string | Prefix): V[] {
    const { table, len } = this.#load(key)
    const out = table.covering(scratch, len, [])
    // covering() left scratch untouched; within() reads the same key
    return table.within(scratch, len, out)
  }

  /** Every entry as [canonical prefix, value]; hosts first, in no promised order. */
  *entries(): IterableIterator<[string, V]> {
    for (const table of [this.#v4, this.#v6]) {
      for (const [bytes, len, value] of table.entries()) {
        const text = formatIp(bytes)
        yield [len === table.bits ? text : `${text}/${len}`, value]
      }
    }
  }

  *values(): IterableIterator<V> {
    yield* this.#v4.values()
    yield* this.#v6.values()
  }
}
