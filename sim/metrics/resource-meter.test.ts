import { describe, expect, it } from 'vitest'
import { LoopLoad, ResourceMeter, threadUsage, type ThreadUsage } from './resource-meter.ts'

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

  // Real event-loop counters: a loop that never yields has no idle time at all, one waiting on a timer has some,
  // however busy the machine is. How much the waiting interval reads as busy depends on the machine (0.74 was
  // seen on a loaded one), so the figures are checked against the very counters the meter was given.
  it('tells a saturated event loop from an idle one while traffic runs', async () => {
    const meter = new ResourceMeter()
    const start = threadUsage()
    meter.startTraffic([start])
    spin(300) // the loop never yields: busy the whole interval
    const spun = threadUsage()
    meter.sample([spun])
    await sleep(300) // the loop waits on a timer: idle for part of the interval at least
    const waited = threadUsage()
    meter.endTraffic([waited])
    spin(300) // after the traffic: not counted
    const load = meter.finish([threadUsage()]).trafficLoopLoad
    const share = (a: ThreadUsage, b: ThreadUsage) =>
      (b.active - a.active) / (b.active - a.active + b.idle - a.idle)
    const busy = share(start, spun)
    const waiting = share(spun, waited)
    expect(busy).toBeGreaterThan(0.99)
    expect(waiting).toBeLessThan(busy)
    const round2 = (v: number) => Math.round(v * 100) / 100
    expect(load).toEqual({ mean: round2((busy + waiting) / 2), max: round2(busy) })
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
