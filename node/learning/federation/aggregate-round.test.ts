import { describe, expect, it } from 'vitest'
import { aggregateRound, type RoundUpdate } from './aggregate-round.ts'

function update(sender: string, values: number[], trust = 1, exampleBucket = 64): RoundUpdate {
  return { sender, peerId: `peer-${sender}`, delta: Float32Array.from(values), exampleBucket, trust }
}

describe('aggregateRound', () => {
  it('gives the same bytes whatever order the updates arrived in', () => {
    const updates = [
      update('b', [1, 2, 3]),
      update('a', [0.5, 2.5, 3]),
      update('c', [1.5, 1, 2]),
      update('d', [9, 9, 9]),
    ]
    for (const rule of ['fedavg', 'median', 'trimmed-mean', 'krum'] as const) {
      const forward = aggregateRound(updates, rule).delta
      const backward = aggregateRound([...updates].reverse(), rule).delta
      expect(Buffer.from(backward.buffer)).toEqual(Buffer.from(forward.buffer))
    }
  })

  it('leaves out distrusted senders and reports how each update relates to the result', () => {
    const r = aggregateRound(
      [update('a', [1, 1]), update('b', [1.2, 0.8]), update('c', [-10, -10]), update('z', [50, 50], 0)],
      'median',
    )
    expect(r.participants.map((p) => p.peerId)).toEqual(['peer-a', 'peer-b', 'peer-c'])
    expect(Array.from(r.delta)).toEqual([1, 0.800000011920929])
    expect(r.participants.find((p) => p.peerId === 'peer-c')!.cosine).toBeLessThan(0)
  })

  it('trims at least one from each end when there are enough updates, and falls back from Krum below three', () => {
    const four = [update('a', [1]), update('b', [2]), update('c', [3]), update('d', [100])]
    // 0.2 x 4 trims nothing; the round trims one from each end instead
    expect(Array.from(aggregateRound(four, 'trimmed-mean', { trimFraction: 0.2 }).delta)).toEqual([2.5])
    const two = aggregateRound([update('a', [1]), update('b', [3])], 'krum')
    expect(two.appliedRule).toBe('median')
    expect(Array.from(two.delta)).toEqual([2])
  })
})
