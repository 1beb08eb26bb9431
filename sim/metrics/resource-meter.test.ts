import { describe, expect, it } from 'vitest'
import { ResourceMeter } from './resource-meter.ts'

const spin = (ms: number) => {
  const end = performance.now() + ms
  while (performance.now() < end);
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('ResourceMeter', () => {
  it('has no loop load outside the traffic phase', () => {
    const meter = new ResourceMeter()
    meter.sample()
    const u = meter.finish()
    expect(u.trafficLoopLoad).toBeNull()
    expect(u.peakRssMb).toBeGreaterThan(0)
  })

  it('tells a saturated event loop from an idle one while traffic runs', async () => {
    const meter = new ResourceMeter()
    meter.startTraffic()
    await sleep(0)
    spin(300) // the loop never yields: busy the whole interval
    meter.sample()
    await sleep(300) // the loop waits on a timer: idle the whole interval
    meter.endTraffic()
    spin(300) // after the traffic: not counted
    const load = meter.finish().trafficLoopLoad
    expect(load).not.toBeNull()
    expect(load?.max).toBeGreaterThan(0.9)
    expect(load?.mean).toBeGreaterThan(0.3)
    expect(load?.mean).toBeLessThan(0.7)
  })
})
