/**
 * A copy of `s` that does not keep alive the string it was sliced from. Replay decodes a chunk of log text into
 * one string and every line and field is a slice of it (V8 makes slices of 13 or more characters views into
 * their parent), so one address or user agent kept in a long-lived map pins its whole chunk. Concatenation
 * makes a fresh string and slicing that one keeps alive only the copy. Use it where a value is stored, never
 * per event.
 */
export function detach(s: string): string {
  return (' ' + s).slice(1)
}

const shared = new Map<string, string>()
const SHARED_MAX = 10_000
/** longer texts (a scanner's payloads) are rarely repeated: copied, not shared, so the pool stays small */
const SHARED_MAX_LENGTH = 512

/**
 * `detach`, returning one shared copy per distinct text while fewer than `SHARED_MAX` texts are held: the same
 * few user agents are remembered by tens of thousands of buckets. Forgetting them all when full costs only
 * fresh copies, never correctness.
 */
export function detachShared(s: string): string {
  // V8 copies slices shorter than 13 characters (SlicedString::kMinLength): user names and the like pin nothing
  if (s.length < 13) return s
  if (s.length > SHARED_MAX_LENGTH) return detach(s)
  let copy = shared.get(s)
  if (copy !== undefined) return copy
  if (shared.size >= SHARED_MAX) shared.clear()
  copy = detach(s)
  shared.set(copy, copy)
  return copy
}
