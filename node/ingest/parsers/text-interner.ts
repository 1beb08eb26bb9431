/**
 * Hands back one string object for text that repeats, such as the few user agents and pages of a site. A line's
 * fields would otherwise be fresh slices of the log text every time, and everything downstream pays for that:
 * each Map lookup hashes the whole text again, each equality test compares it character by character, and a
 * slice kept by a detector pins the whole chunk of log text it came from. A held string is its own copy, keeps
 * its hash once computed, and compares equal to itself by pointer.
 *
 * Direct-mapped on a fingerprint of the length and a few characters, checked by a full comparison, so a miss
 * costs one copy more than no interning, and text that never repeats (random query strings) only churns the
 * table.
 */
export class TextInterner {
  readonly maxLength: number
  readonly #held: (string | undefined)[]
  readonly #mask: number

  constructor(size = 1024, maxLength = 512) {
    let cells = 16
    while (cells < size) cells *= 2
    this.#held = new Array<string | undefined>(cells).fill(undefined)
    this.#mask = cells - 1
    this.maxLength = maxLength
  }

  /** text[start, end) (start < end) */
  get(text: string, start: number, end: number): string {
    const n = end - start
    if (n > this.maxLength) return text.slice(start, end)
    let h = Math.imul(n, 0x9e3779b1) ^ text.charCodeAt(end - 1)
    h = Math.imul(h ^ text.charCodeAt(start + (n >> 1)), 0x85ebca6b)
    h = Math.imul(h ^ text.charCodeAt(start + (n >> 2)), 0xc2b2ae35)
    h = Math.imul(h ^ text.charCodeAt(end - 1 - (n >> 3)), 0x27d4eb2f)
    h ^= h >>> 15
    const cell = h & this.#mask
    const held = this.#held[cell]
    // Comparing with `===` runs on the flat characters of both (a memcmp); `startsWith` at an offset into a
    // sliced string walks them one at a time, several times slower for a user agent.
    const slice = text.slice(start, end)
    if (held === slice) return held
    // concatenation then slicing makes a copy that does not keep `text` alive
    const copy = (' ' + slice).slice(1)
    this.#held[cell] = copy
    return copy
  }
}
