import { describe, expect, it } from 'vitest'
import type { BlockChange } from '../blocklist/block-entry.ts'
import { MemoryBlocklist } from './memory-blocklist.ts'

describe('MemoryBlocklist', () => {
  it('blocks addresses and ranges and looks them up most specific first', () => {
    const list = new MemoryBlocklist()
    const host = list.block({ value: '203.0.113.7', scenario: 'ssh-bf' })
    const net = list.block({ value: '203.0.113.99/24' })
    expect(net.value).toBe('203.0.113.0/24')
    expect(net.scope).toBe('range')
    expect(host.scope).toBe('ip')
    expect(list.size).toBe(2)
    expect(list.lookup('203.0.113.7').map((e) => e.id)).toEqual([host.id, net.id])
    expect(list.lookup('::ffff:203.0.113.8').map((e) => e.id)).toEqual([net.id])
    expect(list.lookup('198.51.100.1')).toEqual([])
    expect(list.lookup('not an ip')).toEqual([])
    expect(list.get('203.0.113.0/24')?.id).toBe(net.id)
    expect(list.get('garbage')).toBeUndefined()
  })

  it('reports every change, a renewal as removed + added with a new id', () => {
    const list = new MemoryBlocklist()
    const changes: BlockChange[] = []
    const off = list.onChange((c) => changes.push(c))
    const first = list.block({ value: '2001:db8::1' })
    const second = list.block({ value: '2001:db8:0::1' })
    expect(second.id).not.toBe(first.id)
    expect(second.offence).toBe(2)
    expect(list.unblock('2001:db8::1')).toBe(true)
    expect(list.unblock('2001:db8::1')).toBe(false)
    off()
    list.block({ value: '192.0.2.1' })
    expect(changes.map((c) => (c.kind === 'removed' ? `removed:${c.reason}` : 'added'))).toEqual([
      'added',
      'removed:replaced',
      'added',
      'removed:manual',
    ])
  })

  it('hides expired entries at once and removes them on expire()', () => {
    let now = 1_000_000
    const list = new MemoryBlocklist({ clock: () => now })
    list.block({ value: '192.0.2.1', durationMs: 1000 })
    list.block({ value: '192.0.2.0/24', durationMs: 5000 })
    now += 2000
    expect(list.get('192.0.2.1')).toBeUndefined()
    expect(list.lookup('192.0.2.1').map((e) => e.value)).toEqual(['192.0.2.0/24'])
    expect([...list.entries()].map((e) => e.value)).toEqual(['192.0.2.0/24'])
    const removed: string[] = []
    list.onChange((c) => c.kind === 'removed' && removed.push(`${c.entry.value}:${c.reason}`))
    expect(list.expire()).toBe(1)
    expect(removed).toEqual(['192.0.2.1:expired'])
    expect(list.size).toBe(1)
  })

  it('rejects values that are not addresses or CIDRs', () => {
    const list = new MemoryBlocklist()
    expect(() => list.block({ value: '999.1.1.1' })).toThrow(
      expect.objectContaining({ name: 'InvalidIndicatorError' }),
    )
  })
})
