import { describe, expect, it } from 'vitest'
import { LoopLoad, ResourceMeter, threadUsage } from './resource-meter.ts'

const spin = (ms: number) => {
  const end = performance.now() + ms
  while (performance.now() < end);
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('ResourceMeter', () => {
  it('has no loop load outside the traffic phase', () => {
    const meter = new ResourceMeter()
    meter.sample([threadUsage()])
    const u = meter.finish([threadUsage()])
    expect(u.trafficLoopLoad).toBeNull()
    expect(u.peakRssMb).toBeGreaterThan(0)
  })

  it('tells a saturated event loop from an idle one while traffic runs', async () => {
    const meter = new ResourceMeter()
    meter.startTraffic([threadUsage()])
    await sleep(0)
    spin(300) // the loop never yields: busy the whole interval
    meter.sample([threadUsage()])
    await sleep(300) // the loop waits on a timer: idle the whole interval
    meter.endTraffic([threadUsage()])
    spin(300) // after the traffic: not counted
    const load = meter.finish([threadUsage()]).trafficLoopLoad
    expect(load).not.toBeNull()
    expect(load?.max).toBeGreaterThan(0.9)
    expect(load?.mean).toBeGreaterThan(0.3)
    expect(load?.mean).toBeLessThan(0.7)
  })

  it('sums the heap of every thread and takes the busiest loop as the load', () => {
    const meter = new ResourceMeter()
    const idle = { idle: 0, active: 0, heapUsed: 100 * 1024 * 1024 }
    const busy = { idle: 0, active: 0, heapUsed: 50 * 1024 * 1024 }
    meter.startTraffic([idle, busy])
    expect(
      meter.sample([
        { ...idle, idle: 900, active: 100 },
        { ...busy, idle: 200, active: 800 },
      ]).heapMb,
    ).toBe(150)
    meter.endTraffic([
      { ...idle, idle: 1800, active: 200 },
      { ...busy, idle: 300, active: 1700 },
    ])
    const u = meter.finish([idle, busy])
    expect(u.peakHeapMb).toBe(150)
    expect(u.trafficLoopLoad).toEqual({ mean: 0.85, max: 0.9 })
  })

  it('LoopLoad has no figure until it has a previous sample of the same threads', () => {
    const load = new LoopLoad()
    expect(load.next([{ idle: 10, active: 10, heapUsed: 0 }])).toBeUndefined()
    expect(load.next([{ idle: 10, active: 10, heapUsed: 0 }])).toBeUndefined()
    expect(load.next([{ idle: 20, active: 40, heapUsed: 0 }])).toBeCloseTo(0.75)
  })
})
