import { describe, expect, it } from 'vitest'
import type { BlockEntry } from '../blocklist/block-entry.ts'
import { ChangeJournal } from './change-journal.ts'
import { SnapshotCache } from './decision-snapshot.ts'
import { MemoryBlocklist } from './memory-blocklist.ts'

const T0 = Date.UTC(2025, 0, 1)

function setup(options: { capacity?: number; maxLag?: number } = {}) {
  let now = T0
  const clock = () => now
  const list = new MemoryBlocklist({ clock })
  const journal = new ChangeJournal({ capacity: options.capacity ?? 1000, clock })
  journal.follow(list)
  let passes = 0
  const view = {
    get size() {
      return list.size
    },
    get: (v: string) => list.get(v),
    lookup: (ip: string) => list.lookup(ip),
    entries: () => {
      passes++
      return list.entries()
    },
    onChange: (l: Parameters<MemoryBlocklist['onChange']>[0]) => list.onChange(l),
  }
  const cache = new SnapshotCache(view, journal, { clock, maxLag: options.maxLag ?? 3 })
  return { list, journal, cache, passes: () => passes, advance: (ms: number) => (now += ms) }
}

const values = (entries: Iterable<BlockEntry>) => [...entries].map((e) => e.value)

describe('SnapshotCache', () => {
  it('builds one snapshot for every reader while the list has not changed', () => {
    const { list, cache, passes } = setup()
    for (let i = 1; i <= 5; i++) list.block({ value: `192.0.2.${i}` })
    const first = cache.current()
    for (let i = 0; i < 100; i++) expect(cache.current()).toBe(first)
    expect([cache.builds, passes()]).toEqual([1, 1])
    expect(first.values).toEqual(['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4', '192.0.2.5'])
  })

  it('is reused, read up to date, while a newer one is built past maxLag or when the journal lost its changes', async () => {
    const { list, cache } = setup({ capacity: 5, maxLag: 3 })
    const a = list.block({ value: '192.0.2.1' })
    list.block({ value: '192.0.2.2' })
    const snap = cache.current()
    list.unblock('192.0.2.2')
    list.block({ value: '192.0.2.1', durationMs: 9_000_000 }) // renewed: removed + added
    expect(cache.current()).toBe(snap)
    const read = cache.read()
    // the removed one is left out, the renewed one is written once, as its new activation
    const entries = [...read.entries(T0)]
    expect(values(entries)).toEqual(['192.0.2.1'])
    expect(entries[0].id).not.toBe(a.id)
    expect(read.head).toBe(5)
    list.block({ value: '192.0.2.3' })
    // past maxLag: still served (up to date through the journal) while a newer one is built in the background
    expect(cache.current()).toBe(snap)
    expect(values(cache.read().entries(T0))).toEqual(['192.0.2.1', '192.0.2.3'])
    await cache.settled()
    const second = cache.current()
    expect(second).not.toBe(snap)
    expect([second.head, second.values]).toEqual([6, ['192.0.2.1', '192.0.2.3']])
    expect(cache.builds).toBe(2)
    // the journal (5 records) no longer holds what came after it: rebuilt at once
    for (let i = 4; i <= 9; i++) list.block({ value: `192.0.2.${i}` })
    const third = cache.current()
    expect(third).not.toBe(second)
    expect(third.values).toHaveLength(8)
  })

  it('leaves out of a snapshot built in the background what was added meanwhile: it comes with the changes', async () => {
    const { list, cache } = setup({ maxLag: 0 })
    for (let i = 1; i <= 3; i++) list.block({ value: `192.0.2.${i}` })
    const first = cache.current()
    list.block({ value: '192.0.2.4' })
    cache.current() // past maxLag: a build starts at this head
    list.block({ value: '192.0.2.5' }) // added while it is read
    await cache.settled()
    const snap = cache.current()
    expect(snap).not.toBe(first)
    expect(snap.values).toEqual(['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4'])
    expect(values(cache.read().entries(T0))).toEqual([
      '192.0.2.1',
      '192.0.2.2',
      '192.0.2.3',
      '192.0.2.4',
      '192.0.2.5',
    ])
  })

  it('leaves out entries whose time is up by the time they are written', () => {
    const { list, cache, advance } = setup()
    list.block({ value: '192.0.2.1', durationMs: 1000 })
    list.block({ value: '192.0.2.2', durationMs: 5000 })
    const read = cache.read()
    advance(2000)
    expect(values(read.entries(T0 + 2000))).toEqual(['192.0.2.2'])
  })

  it('lists recent endings of values not blocked again, from the snapshot and after it', () => {
    const { list, cache } = setup({ maxLag: 10 })
    list.block({ value: '192.0.2.1' })
    list.block({ value: '192.0.2.2' })
    list.unblock('192.0.2.1')
    cache.current()
    list.unblock('192.0.2.2')
    list.block({ value: '192.0.2.1' })
    expect([...cache.read().ended()].map((r) => r.entry.value)).toEqual(['192.0.2.2'])
  })

  it('renders each snapshot entry once for all its readers, and what came after it for each', () => {
    const { list, cache } = setup()
    list.block({ value: '192.0.2.1' })
    list.block({ value: '192.0.2.2' })
    cache.current()
    list.block({ value: '192.0.2.3' })
    let calls = 0
    const render = (e: BlockEntry) => `${++calls}:${e.value}`
    const first = [...cache.read().rendered(T0, render)]
    const second = [...cache.read().rendered(T0, render)]
    expect(first).toEqual(['1:192.0.2.1', '2:192.0.2.2', '3:192.0.2.3'])
    expect(second).toEqual(['1:192.0.2.1', '2:192.0.2.2', '4:192.0.2.3'])
  })
})
