import { describe, expect, it } from 'vitest'
import { ChangeJournal } from './change-journal.ts'
import { MemoryBlocklist } from './memory-blocklist.ts'

describe('ChangeJournal', () => {
  it('numbers the changes of a view and answers what came after a sequence number', () => {
    const list = new MemoryBlocklist()
    const journal = new ChangeJournal({ capacity: 10 })
    journal.follow(list)
    expect(journal.head).toBe(0)
    expect(journal.since(0)).toEqual([])
    list.block({ value: '192.0.2.1' })
    list.block({ value: '192.0.2.2' })
    list.unblock('192.0.2.1')
    expect(journal.head).toBe(3)
    expect(journal.since(1)?.map((r) => [r.seq, r.change.kind, r.change.entry.value])).toEqual([
      [2, 'added', '192.0.2.2'],
      [3, 'removed', '192.0.2.1'],
    ])
    expect(journal.since(3)).toEqual([])
    // a number from the future belongs to an earlier process
    expect(journal.since(4)).toBeUndefined()
    expect(journal.since(-1)).toBeUndefined()
    journal.stop()
    list.block({ value: '192.0.2.3' })
    expect(journal.head).toBe(3)
  })

  it('drops the oldest records past its capacity and refuses to answer across the gap', () => {
    const list = new MemoryBlocklist()
    const journal = new ChangeJournal({ capacity: 3 })
    journal.follow(list)
    for (let i = 1; i <= 5; i++) list.block({ value: `192.0.2.${i}` })
    expect(journal.oldest).toBe(3)
    expect(journal.since(1)).toBeUndefined()
    expect(journal.since(2)?.map((r) => r.seq)).toEqual([3, 4, 5])
    expect(journal.held().map((r) => r.seq)).toEqual([3, 4, 5])
    expect(journal.since(2, 2)?.map((r) => r.seq)).toEqual([3, 4])
  })

  it('tells listeners about each record and has a fresh epoch per instance', () => {
    const journal = new ChangeJournal()
    const list = new MemoryBlocklist()
    journal.follow(list)
    const seen: number[] = []
    const off = journal.onAppend((r) => seen.push(r.seq))
    list.block({ value: '192.0.2.1' })
    off()
    list.block({ value: '192.0.2.2' })
    expect(seen).toEqual([1])
    expect(new ChangeJournal().epoch).not.toBe(journal.epoch)
    expect(() => new ChangeJournal({ capacity: 0 })).toThrow(RangeError)
  })
})
