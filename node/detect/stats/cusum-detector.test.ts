import { describe, expect, it } from 'vitest'
import type { SecurityEvent } from '../../ingest/event.ts'
import type { Finding } from '../detector.ts'
import { mulberry32, randomInt } from '../features/prng.ts'
import { httpEvent } from '../features/synthetic-traffic.ts'
import { CusumDetector } from './cusum-detector.ts'

const FLOODERS = ['198.51.100.1', '198.51.100.2', '198.51.100.3']
const FLOOD_START = 30 * 60_000 + 5_000

/** ~4 requests/s from 200 visitors for `minutes`, plus optionally 3 addresses at ~70 requests/s each from FLOOD_START */
function traffic(minutes: number, flood: boolean): SecurityEvent[] {
  const rand = mulberry32(42)
  const out: SecurityEvent[] = []
  for (let t = 0; t < minutes * 60_000; t += 1 + randomInt(rand, 500)) {
    out.push(httpEvent(t, `10.4.0.${randomInt(rand, 200)}`, '/'))
    if (flood && t >= FLOOD_START)
      for (let i = 0; i < 35; i++) out.push(httpEvent(t, FLOODERS[randomInt(rand, 3)], '/'))
  }
  return out
}

function run(events: SecurityEvent[]): Finding[] {
  const d = new CusumDetector()
  const out: Finding[] = []
  for (const e of events) {
    const f = d.observe(e)
    if (f !== undefined) out.push(f)
  }
  return [...out, ...d.tick(events[events.length - 1].time + 60_000)]
}

describe('CusumDetector', () => {
  it('alarms within two buckets of a flood onset and names the flooding addresses', () => {
    const findings = run(traffic(35, true))
    expect(findings.length).toBeGreaterThan(0)
    const firstAlarm = Math.min(...findings.map((f) => f.first))
    expect(firstAlarm).toBeGreaterThanOrEqual(FLOOD_START - 10_000)
    expect(firstAlarm).toBeLessThan(FLOOD_START + 20_000)
    const onset = findings.filter((f) => f.first === firstAlarm)
    expect(new Set(onset.map((f) => f.ip))).toEqual(new Set(FLOODERS))
    expect(findings.every((f) => FLOODERS.includes(f.ip))).toBe(true)
    const f = onset[0]
    expect(f).toMatchObject({ detector: 'cusum', scenario: 'http-flood' })
    expect(f.reasons[0]).toMatch(
      /^http rate jumped from \d+\/10s to [\d,]+\/10s \(CUSUM \d+ > 5 sigma\); this address sent [\d,]+ of those requests \(\d+%\)$/,
    )
  })

  it('keeps naming a sustained flood against the pre-flood baseline, then accepts a level that lasts', () => {
    const events = traffic(35, true)
    const d = new CusumDetector({ relearnAfter: 12 })
    const alarmed = new Set<number>()
    for (const e of events) {
      const f = d.observe(e)
      if (f !== undefined) alarmed.add(f.first)
    }
    for (const f of d.tick(events[events.length - 1].time)) alarmed.add(f.first)
    // every bucket of the first two flood minutes alarms; after 12 outlying buckets the level is the baseline
    expect(alarmed.size).toBe(12)
    expect(d.stats().httpBaselinePerBucket).toBeGreaterThan(1000)
  })

  it('stays quiet on steady traffic', () => {
    expect(run(traffic(180, false))).toEqual([])
  })

  it('stays quiet when a small site gets a burst too small to matter', () => {
    const events: SecurityEvent[] = []
    for (let t = 0; t < 20 * 60_000; t += 10_000) events.push(httpEvent(t, '10.5.0.1', '/'))
    for (let i = 0; i < 60; i++) events.push(httpEvent(15 * 60_000 + i * 100, '10.5.0.2', '/')) // one page load burst
    expect(run(events.sort((a, b) => a.time - b.time))).toEqual([])
  })
})
