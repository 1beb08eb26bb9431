import { describe, expect, it } from 'vitest'
import { formatGoDuration, formatGoDurationMs } from './go-duration.ts'

const NS = 1n
const US = 1000n * NS
const MS = 1000n * US
const S = 1000n * MS
const M = 60n * S
const H = 60n * M

describe('formatGoDuration', () => {
  // Go's own table (src/time/time_test.go, durationTests), plus a few negatives.
  const vectors: Array<[string, bigint]> = [
    ['0s', 0n],
    ['1ns', 1n * NS],
    ['1.1µs', 1100n * NS],
    ['2.2ms', 2200n * US],
    ['3.3s', 3300n * MS],
    ['4m5s', 4n * M + 5n * S],
    ['4m5.001s', 4n * M + 5001n * MS],
    ['5h6m7.001s', 5n * H + 6n * M + 7001n * MS],
    ['8m0.000000001s', 8n * M + 1n * NS],
    ['2562047h47m16.854775807s', (1n << 63n) - 1n],
    ['-2562047h47m16.854775808s', -(1n << 63n)],
    ['1h0m0s', 1n * H],
    ['-1.5s', -1500n * MS],
    ['-999ns', -999n],
    ['1µs', 1n * US],
    ['999.999999ms', 999_999_999n],
    ['1s', 1n * S],
    ['3h59m58.123456789s', 3n * H + 59n * M + 58n * S + 123_456_789n],
  ]
  for (const [text, ns] of vectors) {
    it(`formats ${ns} ns as ${text}`, () => expect(formatGoDuration(ns)).toBe(text))
  }
})

describe('formatGoDurationMs', () => {
  it('formats milliseconds like Go formats the same nanoseconds', () => {
    expect(formatGoDurationMs(0)).toBe('0s')
    expect(formatGoDurationMs(1)).toBe('1ms')
    expect(formatGoDurationMs(14_398_123)).toBe('3h59m58.123s')
    expect(formatGoDurationMs(4 * 3600_000)).toBe('4h0m0s')
    expect(formatGoDurationMs(-62_500)).toBe('-1m2.5s')
    expect(formatGoDurationMs(0.5)).toBe('500µs')
    expect(formatGoDurationMs(-0)).toBe('0s')
    // A year-long ban: far past 2^53 nanoseconds, still exact.
    expect(formatGoDurationMs(365 * 24 * 3600_000 + 1)).toBe('8760h0m0.001s')
  })

  it('rejects non-finite input', () => {
    expect(() => formatGoDurationMs(Number.NaN)).toThrow(RangeError)
  })
})
