import { describe, expect, it } from 'vitest'
import { InvalidTimeZoneError, LocalTime } from './local-time.ts'

describe('LocalTime', () => {
  it('is UTC by default', () => {
    const t = new LocalTime()
    expect(t.isUtc).toBe(true)
    expect(t.offsetMs(Date.UTC(2024, 0, 1))).toBe(0)
  })

  it('follows daylight saving time in an IANA zone', () => {
    const t = new LocalTime({ timeZone: 'America/New_York' })
    expect(t.offsetMs(Date.UTC(2024, 0, 15, 12))).toBe(-5 * 3_600_000)
    expect(t.offsetMs(Date.UTC(2024, 6, 15, 12))).toBe(-4 * 3_600_000)
    // 2024-03-10 03:30 local exists only in EDT
    expect(t.offsetMs(Date.UTC(2024, 2, 10, 3, 30))).toBe(-4 * 3_600_000)
  })

  it('rejects unknown zones with a named error', () => {
    expect(() => new LocalTime({ timeZone: 'Mars/Olympus' })).toThrow(
      expect.objectContaining({ name: 'InvalidTimeZoneError' }),
    )
    expect(InvalidTimeZoneError.name).toBe('InvalidTimeZoneError')
  })
})
