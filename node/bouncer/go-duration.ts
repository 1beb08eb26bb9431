/**
 * Go's `time.Duration.String()`, exactly: CrowdSec's decision `duration` is that text (`3h59m58.123456789s`,
 * `1.5ms`, `-2m3s`, `0s`), and every Go bouncer reads it back with `time.ParseDuration`. Days are never used
 * (hours just grow), trailing fractional zeros are dropped, and sub-second values switch to ms, µs or ns.
 */

const NS_PER_SECOND = 1_000_000_000

/** The fraction `frac / 10^digits` as `.123`, trailing zeros and (when zero) the point omitted. */
function fraction(frac: number, digits: number): string {
  if (frac === 0) return ''
  let text = String(frac).padStart(digits, '0')
  let end = text.length
  while (end > 0 && text.charCodeAt(end - 1) === 0x30) end--
  text = text.slice(0, end)
  return '.' + text
}

/** Formats a non-negative duration of `seconds` whole seconds plus `nanos` (0..999,999,999). */
function formatParts(seconds: number, nanos: number, negative: boolean): string {
  let text: string
  if (seconds === 0) {
    if (nanos === 0) return '0s'
    if (nanos < 1_000) text = `${nanos}ns`
    else if (nanos < 1_000_000) text = `${Math.floor(nanos / 1_000)}${fraction(nanos % 1_000, 3)}µs`
    else text = `${Math.floor(nanos / 1_000_000)}${fraction(nanos % 1_000_000, 6)}ms`
  } else {
    const s = seconds % 60
    const minutes = Math.floor(seconds / 60)
    text = `${s}${fraction(nanos, 9)}s`
    if (minutes > 0) {
      text = `${minutes % 60}m${text}`
      const hours = Math.floor(minutes / 60)
      if (hours > 0) text = `${hours}h${text}`
    }
  }
  return negative ? '-' + text : text
}

/** Go's formatting of a duration given in integer nanoseconds (the full int64 range). */
export function formatGoDuration(nanoseconds: bigint): string {
  const negative = nanoseconds < 0n
  const abs = negative ? -nanoseconds : nanoseconds
  const second = BigInt(NS_PER_SECOND)
  return formatParts(Number(abs / second), Number(abs % second), negative)
}

/** The same for milliseconds (our clocks' unit); fractional milliseconds are rounded to whole nanoseconds. */
export function formatGoDurationMs(milliseconds: number): string {
  if (!Number.isFinite(milliseconds)) throw new RangeError(`not a finite duration: ${milliseconds}`)
  const negative = milliseconds < 0
  const abs = Math.abs(milliseconds)
  let seconds = Math.floor(abs / 1000)
  let nanos = Math.round((abs - seconds * 1000) * 1_000_000)
  if (nanos >= NS_PER_SECOND) {
    seconds++
    nanos -= NS_PER_SECOND
  }
  return formatParts(seconds, nanos, negative && (seconds > 0 || nanos > 0))
}
