import { describe, expect, it } from 'vitest'
import { parseIndicator } from '../../protocol/indicator.ts'
import { EntryTable, HELD_REPORTERS, type SlimInput } from './entry-table.ts'

function input(over: Partial<SlimInput> = {}): SlimInput {
  return {
    id: 7,
    origin: 'community',
    scenario: 'ssh-bf',
    score: 0.8125,
    reporters: ['peer-a', 'peer-b'],
    createdAt: 1_700_000_000_000,
    expiresAt: 8_640_000_000_000_000,
    offence: 3,
    ...over,
  }
}

describe('EntryTable', () => {
  it('gives back every field, values in their canonical spelling', () => {
    const table = new EntryTable()
    const values = [
      '203.0.113.7',
      '0.0.0.0/0',
      '10.0.0.0/8',
      '::ffff:198.51.100.0/120',
      '2001:db8::/32',
      '::1',
    ]
    const slots = values.map((v, i) => table.put(parseIndicator(v), input({ id: i + 1 })))
    expect(slots.map((s) => table.value(s))).toEqual(values.map((v) => parseIndicator(v).canonical))
    expect(table.entry(slots[0])).toEqual({
      id: 1,
      value: '203.0.113.7',
      scope: 'ip',
      type: 'ban',
      origin: 'community',
      scenario: 'ssh-bf',
      score: 0.8125,
      reasons: ['ssh-bf: blocked on weighed community reports'],
      reporters: ['peer-a', 'peer-b'],
      createdAt: 1_700_000_000_000,
      expiresAt: 8_640_000_000_000_000,
      offence: 3,
    })
    expect(table.entry(slots[3])).toMatchObject({ value: '198.51.100.0/24', scope: 'range' })
    expect(table.entry(slots[4]).scope).toBe('range')
    // the summary is shared and cannot be changed through one entry
    expect(table.entry(slots[1]).reasons).toBe(table.entry(slots[2]).reasons)
    expect(() => table.entry(slots[1]).reasons.push('x')).toThrow(TypeError)
    expect(table.size).toBe(values.length)
  })

  it('holds the first HELD_REPORTERS reporters and reuses freed slots', () => {
    const table = new EntryTable()
    const many = Array.from({ length: 9 }, (_, i) => `peer-${i}`)
    const a = table.put(parseIndicator('192.0.2.1'), input({ reporters: many }))
    const b = table.put(
      parseIndicator('192.0.2.2'),
      input({ reporters: [], origin: 'manual', scenario: 'x' }),
    )
    expect(table.entry(a).reporters).toEqual(many.slice(0, HELD_REPORTERS))
    expect(table.entry(b)).toMatchObject({ reporters: [], reasons: ['x: blocked by an administrator'] })
    table.free(a)
    table.free(a)
    expect(table.used(a)).toBe(false)
    expect(table.size).toBe(1)
    const c = table.put(parseIndicator('2001:db8::9'), input({ scenario: 'http-crawl', origin: 'local' }))
    expect(c).toBe(a)
    expect(table.entry(c)).toMatchObject({
      value: '2001:db8::9',
      scenario: 'http-crawl',
      reasons: ["http-crawl: blocked by this node's detectors"],
    })
    expect([...table.slots()].sort()).toEqual([a, b].sort())
  })

  it('grows past its first capacity without losing entries', () => {
    const table = new EntryTable()
    for (let i = 0; i < 5000; i++) {
      table.put(parseIndicator(`198.18.${i >> 8}.${i & 255}`), input({ id: i + 1, expiresAt: i }))
    }
    expect(table.size).toBe(5000)
    expect(table.entry(4999)).toMatchObject({ id: 5000, value: '198.18.19.135', expiresAt: 4999 })
    expect(table.footprint).toBeGreaterThan(5000 * 60)
  })
})
