import { describe, expect, it } from 'vitest'
import { CHUNKS_PER_TURN, isRefusal, StreamGate, type StreamLease } from './stream-gate.ts'

function lease(x: ReturnType<StreamGate['acquire']>): StreamLease {
  if (isRefusal(x)) throw new Error(`refused: ${x.reason}`)
  return x
}

describe('StreamGate', () => {
  it('admits streams up to the cap per token and in all, and frees a slot on release', () => {
    const gate = new StreamGate({ maxPerToken: 2, maxTotal: 3 })
    const a1 = lease(gate.acquire('a', 'sse'))
    lease(gate.acquire('a', 'sse'))
    expect(gate.acquire('a', 'sse')).toEqual({ reason: 'token', limit: 2 })
    lease(gate.acquire('b', 'lapi'))
    expect(gate.acquire('c', 'sse')).toEqual({ reason: 'total', limit: 3 })
    a1.release()
    a1.release() // twice is once
    expect(gate.counts.open).toBe(2)
    lease(gate.acquire('a', 'sse'))
    expect(gate.counts).toEqual({ open: 3, refused: 2, dropped: 0 })
    gate.close()
  })

  it('cuts off a stream whose output waits unread for stallSeconds, not one that keeps reading', () => {
    let now = 0
    const gate = new StreamGate({ stallSeconds: 60 }, { clock: () => now })
    const idle = lease(gate.acquire('a', 'sse'))
    const reading = lease(gate.acquire('a', 'sse'))
    const cut: string[] = []
    idle.attach({ drop: () => cut.push('idle') })
    reading.attach({ drop: () => cut.push('reading') })
    idle.pulled()
    idle.handed(1000)
    reading.pulled()
    reading.handed(1000)
    now = 59_000
    reading.pulled() // the client asked for more: it is keeping up
    reading.handed(1000)
    expect(gate.sweep()).toBe(0)
    now = 60_000
    expect(gate.sweep()).toBe(1)
    expect(cut).toEqual(['idle'])
    expect(gate.streams().map((s) => s.id)).toEqual([reading.id])
    expect(gate.counts.dropped).toBe(1)
    gate.close()
    expect(cut).toEqual(['idle', 'reading'])
  })

  it('counts a response never read at all as waiting since it was admitted', () => {
    let now = 0
    const gate = new StreamGate({ stallSeconds: 1 }, { clock: () => now })
    lease(gate.acquire('a', 'lapi'))
    now = 1000
    expect(gate.sweep()).toBe(1)
    expect(gate.counts.open).toBe(0)
  })

  it('lets at most CHUNKS_PER_TURN chunks be written per turn of the event loop, first come first', async () => {
    const gate = new StreamGate()
    const order: number[] = []
    const all = Array.from({ length: 20 }, (_, i) => gate.turn().then(() => order.push(i)))
    await new Promise((resolve) => setImmediate(resolve))
    expect(order).toEqual(Array.from({ length: CHUNKS_PER_TURN }, (_, i) => i))
    await Promise.all(all)
    expect(order).toEqual(Array.from({ length: 20 }, (_, i) => i))
  })

  it('refuses limits that are not positive integers', () => {
    expect(() => new StreamGate({ maxTotal: 0 })).toThrow(RangeError)
  })
})
