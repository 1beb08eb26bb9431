import { describe, expect, it } from 'vitest'
import { measure, percentiles, type MemberObservation } from './measurements.ts'

function member(
  index: number,
  blocks: Record<string, number>,
  local: Record<string, number> = {},
  role: 'honest' | 'hostile' = 'honest',
  up = 0,
): MemberObservation {
  return {
    index,
    role,
    spans: [{ up }],
    blockedAt: (ip) => blocks[ip],
    localAt: new Map(Object.entries(local)),
  }
}

describe('measure', () => {
  it('times propagation from the first local detection to the last honest node, ignoring hostile ones', () => {
    const m = measure({
      members: [
        member(0, { a: 1000 }, { a: 1000 }),
        member(1, { a: 1200 }),
        member(2, { a: 1900 }),
        member(3, {}, {}, 'hostile'),
      ],
      attackers: [{ ip: 'a', kind: 'ssh-bruteforce', targets: [0] }],
      benign: [],
      alerts: [],
    })
    expect(m.propagation).toEqual({ p50Ms: 900, p99Ms: 900, maxMs: 900, count: 1 })
    expect(m.nodeDelaysMs).toEqual([0, 200, 900])
    expect(m.missedBlocks).toBe(0)
  })

  it('with a quorum of two, times from the second detection and does not count single detections as missed', () => {
    const m = measure({
      members: [
        member(0, { a: 1000, b: 50 }, { a: 1000, b: 50 }),
        member(1, { a: 1500 }, { a: 1400 }),
        member(2, { a: 1700 }),
      ],
      attackers: [
        { ip: 'a', kind: 'ssh-bruteforce', targets: [0, 1] },
        { ip: 'b', kind: 'ssh-bruteforce', targets: [0] },
      ],
      benign: [],
      alerts: [],
      quorum: 2,
    })
    expect(m.propagation.maxMs).toBe(300)
    expect(m.missedDetectedBlocks).toBe(0)
    expect(m.belowQuorum).toBe(1)
  })

  it('counts missed, community-only and false blocks', () => {
    const m = measure({
      members: [member(0, { a: 10, c: 5, good: 7 }, { a: 10 }), member(1, { c: 6 })],
      attackers: [
        { ip: 'a', kind: 'ssh-bruteforce', targets: [0] },
        { ip: 'b', kind: 'distributed-bruteforce', targets: [0, 1] },
        { ip: 'c', kind: 'distributed-bruteforce', targets: [0, 1] },
      ],
      benign: ['good', 'fine'],
      alerts: [],
    })
    expect(m.missedBlocks).toBe(2) // a is not on node 1, b nowhere
    expect(m.missedDetectedBlocks).toBe(1)
    expect(m.communityOnlyBlocks).toBe(1)
    expect(m.undetectedAttackers).toBe(2)
    expect([m.falseBlocks, m.falseBlockPairs]).toEqual([1, 1])
  })

  it('expects delivery only to honest nodes online from publication to the end', () => {
    const late = member(2, {}, {}, 'honest', 5000)
    const m = measure({
      members: [member(0, {}), member(1, {}), late],
      attackers: [],
      benign: [],
      alerts: [{ id: 'x', publisher: 0, publishedAt: 1000, receivedBy: new Map([[1, 1010]]) }],
    })
    expect(m.delivery).toEqual({ ratio: 1, expected: 1, delivered: 1 })
  })

  it('percentiles use nearest rank', () => {
    expect(percentiles([5, 1, 3, 2, 4])).toEqual({ p50Ms: 3, p99Ms: 5, maxMs: 5, count: 5 })
    expect(percentiles([])).toEqual({ p50Ms: null, p99Ms: null, maxMs: null, count: 0 })
  })
})
