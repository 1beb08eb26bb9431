import { describe, expect, it, vi } from 'vitest'
import { RoundClock, nextRoundEvent, roundAt, roundFits, type RoundEvent } from './round-clock.ts'

const init = { roundMs: 1000, epochMs: 0, trainFraction: 0.1, closeFraction: 0.8 }

const T0 = 1_000_000

/** on fake timers and a fake Date from T0: a clock of 200 ms rounds from T0, training at +20 and closing at +120 */
async function withFastClock(test: (clock: RoundClock) => Promise<void>): Promise<void> {
  vi.useFakeTimers({ now: T0 })
  try {
    await test(new RoundClock({ roundMs: 200, trainFraction: 0.1, closeFraction: 0.6, epochMs: T0 }))
  } finally {
    vi.useRealTimers()
  }
}

describe('round clock', () => {
  it('takes a claimed round only if it fits the clock: past rounds, the current one, one ahead for skew', () => {
    // at 5300 the clock is in round 5
    expect(roundFits(init, 0, 5300)).toBe(true)
    expect(roundFits(init, 5, 5300)).toBe(true)
    expect(roundFits(init, 6, 5300)).toBe(true)
    expect(roundFits(init, 7, 5300)).toBe(false)
    // the claim of the poisoned model sync (issue 15)
    expect(roundFits(init, 1e12, 5300)).toBe(false)
    expect(roundFits(init, -1, 5300)).toBe(false)
    expect(roundFits(init, 2.5, 5300)).toBe(false)
    expect(roundFits(init, Number.MAX_SAFE_INTEGER + 2, 5300)).toBe(false)
    expect(new RoundClock(init, () => 5300).fits(6)).toBe(true)
    expect(new RoundClock(init, () => 5300).fits(7)).toBe(false)
  })

  it('derives round and phase from the clock alone', () => {
    expect(roundAt(init, 0)).toMatchObject({
      round: 0,
      phase: 'wait',
      trainAt: 100,
      publishBy: 625,
      closeAt: 800,
      end: 1000,
    })
    expect(roundAt(init, 2150)).toMatchObject({ round: 2, phase: 'collect', start: 2000 })
    expect(roundAt(init, 2800).phase).toBe('closed')
    expect(roundAt({ ...init, epochMs: 500 }, 1499)).toMatchObject({ round: 0, start: 500 })
  })

  it('walks train, close, train of the next round', () => {
    expect(nextRoundEvent(init, 50)).toEqual({ kind: 'train', round: 0, at: 100 })
    expect(nextRoundEvent(init, 100)).toEqual({ kind: 'close', round: 0, at: 800 })
    expect(nextRoundEvent(init, 800)).toEqual({ kind: 'train', round: 1, at: 1100 })
  })

  it('refuses a schedule without room to collect', () => {
    expect(() => new RoundClock({ ...init, trainFraction: 0.9 })).toThrow(
      expect.objectContaining({ name: 'InvalidRoundClockError' }),
    )
  })

  // Fake timers and a fake Date: on a busy machine real timers fire late and their events are dropped (by design),
  // so a real-time test could only assert order. Here every event is due and checked.
  it('fires every train and close event at its time, in order, and none after stop', async () => {
    await withFastClock(async (clock) => {
      const seen: Array<RoundEvent & { firedAt: number }> = []
      clock.start((e) => {
        seen.push({ ...e, firedAt: Date.now() })
      })
      await vi.advanceTimersByTimeAsync(450)
      clock.stop()
      const t = T0
      expect(seen).toEqual([
        { kind: 'train', round: 0, at: t + 20, firedAt: t + 20 },
        { kind: 'close', round: 0, at: t + 120, firedAt: t + 120 },
        { kind: 'train', round: 1, at: t + 220, firedAt: t + 220 },
        { kind: 'close', round: 1, at: t + 320, firedAt: t + 320 },
        { kind: 'train', round: 2, at: t + 420, firedAt: t + 420 },
      ])
      await vi.advanceTimersByTimeAsync(250)
      expect(seen).toHaveLength(5)
    })
  })

  it('drops an event whose time passed long ago (the process slept) and carries on with the schedule', async () => {
    await withFastClock(async (clock) => {
      const seen: RoundEvent[] = []
      clock.start((e) => {
        seen.push(e)
      })
      // the wall clock jumps 250 ms while the timer for the train at +20 is pending: it fires 230 ms late
      vi.setSystemTime(T0 + 250)
      await vi.advanceTimersByTimeAsync(20)
      expect(seen).toEqual([])
      // the schedule goes on from the clock: the close of round 1 at +320
      await vi.advanceTimersByTimeAsync(100)
      clock.stop()
      expect(seen).toEqual([{ kind: 'close', round: 1, at: T0 + 320 }])
    })
  })
})
