import { describe, expect, it } from 'vitest'
import { defaultWorkers, runScenario } from '../sim/run-scenario.ts'
import { scenarioByName } from '../sim/scenarios/index.ts'
import { SimCluster } from '../sim/shards/sim-cluster.ts'

/**
 * The simulator spread over worker threads: each thread runs its share of the members, members of one thread
 * meet over the memory transport and members of different threads over TCP loopback. The outcome must be the
 * one a single thread reaches, measured the same way.
 */
/** a small run of `name` on six members, three in each of two worker threads */
const onTwoThreads = (name: string, durationSeconds: number) =>
  runScenario({
    scenario: scenarioByName(name),
    nodes: 6,
    workers: 2,
    durationSeconds,
    seed: 7,
    settleSeconds: 6,
  })

describe('simulator on worker threads', () => {
  it('distributed-bruteforce over two threads: blocks cross threads, nothing benign is blocked', async () => {
    const r = await onTwoThreads('distributed-bruteforce', 14)
    expect(r.workers).toBe(2)
    expect(r.missedDetectedBlocks).toBe(0)
    expect(r.falseBlocks).toBe(0)
    expect(r.communityOnlyBlocks).toBeGreaterThanOrEqual(1)
    // members 0, 2, 4 run in one thread and 1, 3, 5 in the other: without links between the threads about half
    // of the expected deliveries would be missing
    expect(r.delivery.ratio).toBeGreaterThanOrEqual(0.99)
    // every member observed and reported, whichever thread ran it
    expect(r.perNode.every((n) => n.online && n.messagesReceived > 0)).toBe(true)
    expect(r.perNode.filter((n) => n.localDetections > 0).length).toBeGreaterThan(0)
    expect(r.resources.trafficLoopLoad).not.toBeNull()
    expect(r.resources.peakHeapMb).toBeGreaterThan(0)
  })

  it('partition over two threads: the split holds across threads and heals', async () => {
    const r = await onTwoThreads('partition', 16)
    expect(r.partition?.leaks).toBe(0)
    expect(r.partition?.withinSideMissed).toBe(0)
    expect(r.partition?.afterHealMissed).toBe(0)
    expect(r.partition?.catchUpMissed).toBe(0)
  })

  it("trust is read on each member's own thread and summed", async () => {
    // community trust: every honest member pins the other honest ones, and nobody pins the hostile member 3
    const roles = ['honest', 'honest', 'honest', 'hostile'] as const
    const cluster = await SimCluster.open({ nodes: 4, seed: 5, roles: [...roles], trust: 'community' }, 2)
    try {
      for (const m of cluster.members) await cluster.start(m)
      const pairs = await cluster.trustPairs([0, 1, 2], 0.6, 2)
      expect(pairs).toMatchObject({ pairs: 6, trustedPairs: 6, nodesWithQuorum: 3 })
      const sums = await cluster.trustSums([0, 1])
      // two observers, each judging two honest peers and the hostile one
      expect(sums.trust.honest[1]).toBe(4)
      expect(sums.trust.hostile[1]).toBe(2)
      expect(sums.trust.honest[0] / 4).toBeGreaterThan(sums.trust.hostile[0] / 2)
    } finally {
      await cluster.destroy()
    }
  })

  it("a worker's error reaches the caller with its name", async () => {
    const cluster = await SimCluster.open({ nodes: 2, seed: 3, roles: ['honest', 'honest'] }, 2)
    try {
      // member 1 runs in shard 1, not in shard 0
      const err = await (cluster.shards[0]?.start(1) ?? Promise.resolve()).catch((e: unknown) => e)
      expect(err).toMatchObject({ name: 'ShardError', remoteName: 'SimNetworkError' })
      expect((err as Error).message).toMatch(/member 1 does not run in this shard/)
    } finally {
      await cluster.destroy()
    }
  })

  it('refuses more shards than members and learning scenarios on several threads', async () => {
    await expect(
      SimCluster.open({ nodes: 2, seed: 3, roles: ['honest', 'honest'] }, 3),
    ).rejects.toMatchObject({
      name: 'SimNetworkError',
    })
    await expect(
      runScenario({ scenario: scenarioByName('fl-poisoning'), nodes: 4, workers: 2 }),
    ).rejects.toMatchObject({ name: 'SimNetworkError' })
  })

  it('defaultWorkers: one thread up to 30 members, then one per 30, at most one per core', () => {
    expect(defaultWorkers(7, 2)).toBe(1)
    expect(defaultWorkers(30, 2)).toBe(1)
    expect(defaultWorkers(31, 2)).toBe(2)
    expect(defaultWorkers(50, 2)).toBe(2)
    expect(defaultWorkers(100, 2)).toBe(2)
    expect(defaultWorkers(100, 8)).toBe(4)
    expect(defaultWorkers(50, 1)).toBe(1)
  })
})
