import { describe, expect, it } from 'vitest'
import { YearTracker } from './year-tracker.ts'

const H = 3_600_000
const iso = (t: number) => new Date(t).toISOString()

describe('YearTracker', () => {
  it('starts from the configured year and steps forward when the month wraps (Dec -> Jan)', () => {
    const y = new YearTracker({ year: 2023, reference: Date.UTC(2030, 0, 1) })
    expect(iso(y.resolve(11, 31, 23 * H))).toBe('2023-12-31T23:00:00.000Z')
    expect(iso(y.resolve(0, 1, 1 * H))).toBe('2024-01-01T01:00:00.000Z')
    expect(y.year).toBe(2024)
    // small backward steps (out-of-order lines within a month or two) do not change the year
    expect(iso(y.resolve(0, 1, 0))).toBe('2024-01-01T00:00:00.000Z')
    expect(iso(y.resolve(2, 1, 0))).toBe('2024-03-01T00:00:00.000Z')
    expect(iso(y.resolve(1, 28, 0))).toBe('2024-02-28T00:00:00.000Z')
  })

  it('takes the year of the reference (file mtime) and steps back for dates after it', () => {
    // a file written from December to January, read with mtime 5 Jan 2024
    const y = new YearTracker({ reference: Date.UTC(2024, 0, 5, 12) })
    expect(iso(y.resolve(11, 10, 6 * H))).toBe('2023-12-10T06:00:00.000Z')
    expect(iso(y.resolve(11, 31, 0))).toBe('2023-12-31T00:00:00.000Z')
    expect(iso(y.resolve(0, 4, 0))).toBe('2024-01-04T00:00:00.000Z')
  })

  it('allows a day of clock skew past the reference', () => {
    const y = new YearTracker({ reference: Date.UTC(2024, 5, 1, 12) })
    expect(iso(y.resolve(5, 2, 6 * H))).toBe('2024-06-02T06:00:00.000Z')
  })

  it('following live, never lands more than a day in the future of now', () => {
    let now = Date.UTC(2024, 11, 31, 23, 59)
    const y = new YearTracker({ now: () => now })
    expect(iso(y.resolve(11, 31, 23 * H + 59 * 60_000))).toBe('2024-12-31T23:59:00.000Z')
    now = Date.UTC(2025, 0, 1, 0, 1)
    expect(iso(y.resolve(0, 1, 60_000))).toBe('2025-01-01T00:01:00.000Z')
    // a daemon started in January replaying a December line (rotated file read late): previous year
    const fresh = new YearTracker({ now: () => Date.UTC(2025, 0, 2) })
    expect(iso(fresh.resolve(11, 30, 0))).toBe('2024-12-30T00:00:00.000Z')
  })

  it('reads the clock only when a date looks like the future', () => {
    let calls = 0
    const y = new YearTracker({
      now: () => {
        calls++
        return Date.UTC(2024, 3, 1)
      },
    })
    expect(calls).toBe(1)
    for (let i = 0; i < 100; i++) y.resolve(2, 31, i * 1000)
    expect(calls).toBe(1)
  })

  it('puts a straggler from December after January lines in the previous year, once', () => {
    const y = new YearTracker({ year: 2024, reference: Date.UTC(2030, 0, 1) })
    y.resolve(0, 2, 0)
    expect(iso(y.resolve(11, 31, 0))).toBe('2023-12-31T00:00:00.000Z')
    expect(iso(y.resolve(0, 2, H))).toBe('2024-01-02T01:00:00.000Z')
  })
})
