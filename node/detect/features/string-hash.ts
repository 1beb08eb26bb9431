/**
 * 32-bit FNV-1a over UTF-16 code units with murmur3's finaliser: a stable, allocation-free string hash for the
 * distinct-value sketches. FNV alone mixes its low bits poorly for short strings, and the sketches index by them.
 */
export function hashString(text: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}
