import { describe, expect, it } from 'vitest'
import { CpuSlices } from './cpu-slices.ts'

describe('CpuSlices', () => {
  it('runs work in order, in a later turn, and lets other callbacks run between slices', async () => {
    // a zero-length slice: one item per turn of the event loop
    const slices = new CpuSlices(0)
    const order: string[] = []
    const runs = [1, 2, 3].map((n) => slices.run(() => order.push(`work ${n}`)))
    setImmediate(() => order.push('other'))
    order.push('sync')
    await Promise.all(runs)
    expect(order[0]).toBe('sync')
    expect(order.filter((o) => o.startsWith('work'))).toEqual(['work 1', 'work 2', 'work 3'])
    // the other callback did not wait for all three
    expect(order.indexOf('other')).toBeLessThan(order.indexOf('work 3'))
  })

  it('returns what the work returns and passes its errors on', async () => {
    const slices = new CpuSlices()
    expect(await slices.run(() => 42)).toBe(42)
    await expect(
      slices.run(() => {
        throw new RangeError('no')
      }),
    ).rejects.toMatchObject({ name: 'RangeError' })
  })

  it('refuses work past its queue bound instead of growing without end', async () => {
    const slices = new CpuSlices(0, 2)
    const a = slices.run(() => 'a')
    const b = slices.run(() => 'b')
    await expect(slices.run(() => 'c')).rejects.toMatchObject({ name: 'SlicesFullError' })
    expect(await Promise.all([a, b])).toEqual(['a', 'b'])
    expect(slices.pending).toBe(0)
    expect(await slices.run(() => 'd')).toBe('d')
  })
})
