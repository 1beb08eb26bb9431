import { describe, expect, it } from 'vitest'
import { FEATURE_SCHEMA } from './feature-schema.ts'
import { httpEvent, sshEvent } from './synthetic-traffic.ts'
import { windowFeatures } from './window-accumulator.ts'
import { WindowAggregator } from './window-aggregator.ts'

const A = '192.0.2.1'
const B = '192.0.2.2'

describe('WindowAggregator', () => {
  it('returns an address window when its next event falls after the window end', () => {
    const agg = new WindowAggregator({ windowMs: 60_000 })
    const first = [httpEvent(1_000, A, '/'), httpEvent(30_000, A, '/a', { status: 404 })]
    for (const e of first) expect(agg.observe(e)).toBeUndefined()
    expect(agg.observe(httpEvent(60_999, A, '/b'))).toBeUndefined() // still inside [1000, 61000)
    const w = agg.observe(httpEvent(61_000, A, '/c'))
    expect(w).toMatchObject({
      ip: A,
      start: 1_000,
      end: 61_000,
      last: 60_999,
      events: 3,
      service: 'http',
      truncated: false,
    })
    expect(Array.from(w!.features)).toEqual(
      Array.from(windowFeatures([...first, httpEvent(60_999, A, '/b')])),
    )
  })

  it('closes idle windows on tick in the order they end, and forgets them', () => {
    const agg = new WindowAggregator({ windowMs: 10_000 })
    agg.observe(sshEvent(0, A, 'auth_failure', 'root'))
    agg.observe(sshEvent(5_000, B, 'auth_failure', 'admin'))
    agg.observe(sshEvent(9_000, A, 'auth_failure', 'root'))
    expect(agg.tick(9_999)).toEqual([])
    const closed = agg.tick(10_000)
    expect(closed.map((w) => [w.ip, w.events, w.service])).toEqual([[A, 2, 'ssh']])
    expect(agg.tick(20_000).map((w) => w.ip)).toEqual([B])
    expect(agg.stats().trackedIps).toBe(0)
    // A comes back: a fresh window, not the old one
    agg.observe(sshEvent(30_000, A, 'auth_success', 'root'))
    expect(agg.flush().map((w) => [w.ip, w.start, w.events])).toEqual([[A, 30_000, 1]])
  })

  it('bounds the work of one tick', () => {
    const agg = new WindowAggregator({ windowMs: 1_000, maxClosePerTick: 100 })
    for (let i = 0; i < 250; i++) agg.observe(httpEvent(i, `10.0.${i >> 8}.${i & 255}`, '/'))
    expect(agg.tick(10_000).length).toBe(100)
    expect(agg.tick(10_000).length).toBe(100)
    expect(agg.tick(10_000).length).toBe(50)
  })

  it('drops windows below minEvents without building them', () => {
    const agg = new WindowAggregator({ windowMs: 1_000, minEvents: 2 })
    agg.observe(httpEvent(0, A, '/'))
    agg.observe(httpEvent(0, B, '/'))
    agg.observe(httpEvent(10, B, '/'))
    expect(agg.tick(5_000).map((w) => w.ip)).toEqual([B])
    expect(agg.stats()).toMatchObject({ windowsClosed: 2, windowsEmitted: 1 })
  })

  it('caps memory under a flood of 200k distinct addresses and counts evictions', () => {
    const agg = new WindowAggregator({ windowMs: 60_000, maxIps: 10_000, minEvents: 5 })
    // a scanner starts first; the flood then pushes its window out of the table
    const early: string[] = []
    for (let i = 0; i < 50; i++) agg.observe(httpEvent(i, A, `/p${i}`, { status: 404 }))
    for (let i = 0; i < 200_000; i++) {
      const w = agg.observe(httpEvent(100 + i / 10, `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, '/'))
      if (w !== undefined) early.push(`${w.ip}:${w.events}:${w.truncated}`)
    }
    const s = agg.stats()
    expect(s.trackedIps).toBe(10_000)
    expect(s.evictedIps).toBe(200_001 - 10_000)
    // the evicted scanner window is closed early and still reported; single-request windows are not
    expect(early).toEqual([`${A}:50:true`])
  })

  it('emits vectors in FEATURE_SCHEMA order and length', () => {
    const agg = new WindowAggregator()
    agg.observe(httpEvent(0, A, '/'))
    const [w] = agg.flush()
    expect(w.features.length).toBe(FEATURE_SCHEMA.names.length)
  })

  it('rejects nonsense configuration with a named error', () => {
    expect(() => new WindowAggregator({ windowMs: 0 })).toThrow(
      expect.objectContaining({ name: 'InvalidWindowConfigError' }),
    )
  })
})
