import { describe, expect, it } from 'vitest'
import { defaultWorkers, runScenario } from '../sim/run-scenario.ts'
import { scenarioByName } from '../sim/scenarios/index.ts'
import { SimCluster } from '../sim/shards/sim-cluster.ts'

/**
 * The simulator spread over worker threads: each thread runs its share of the members, members of one thread
 * meet over the memory transport and members of different threads over TCP loopback. The outcome must be the
 * one a single thread reaches, measured the same way.
 */
describe('simulator on worker threads', () => {
  it('distributed-bruteforce over two threads: blocks cross threads, nothing benign is blocked', async () => {
    const r = await runScenario({
      scenario: scenarioByName('distributed-bruteforce'),
      nodes: 6,
      workers: 2,
      durationSeconds: 14,
      seed: 7,
      settleSeconds: 6,
    })
    expect(r.workers).toBe(2)
    expect(r.missedDetectedBlocks).toBe(0)
    expect(r.falseBlocks).toBe(0)
    expect(r.communityOnlyBlocks).toBeGreaterThanOrEqual(1)
    expect(r.delivery.ratio).toBeGreaterThanOrEqual(0.99)
    // three members per thread: a member with more than two peers reached the other thread
    expect(r.perNode.every((n) => n.connections > 2)).toBe(true)
    // every member observed and reported, whichever thread ran it
    expect(r.perNode.every((n) => n.online && n.messagesReceived > 0)).toBe(true)
    expect(r.perNode.filter((n) => n.localDetections > 0).length).toBeGreaterThan(0)
    expect(r.resources.trafficLoopLoad).not.toBeNull()
    expect(r.resources.peakHeapMb).toBeGreaterThan(0)
  })

  it('partition over two threads: the split holds across threads and heals', async () => {
    const r = await runScenario({
      scenario: scenarioByName('partition'),
      nodes: 6,
      workers: 2,
      durationSeconds: 16,
      seed: 7,
      settleSeconds: 6,
    })
    expect(r.partition?.leaks).toBe(0)
    expect(r.partition?.withinSideMissed).toBe(0)
    expect(r.partition?.afterHealMissed).toBe(0)
    expect(r.partition?.catchUpMissed).toBe(0)
  })

  it('sybil-false-reports with organic trust over two threads: trust is earned across threads', async () => {
    const r = await runScenario({
      scenario: scenarioByName('sybil-false-reports'),
      nodes: 7,
      workers: 2,
      durationSeconds: 12,
      seed: 7,
      settleSeconds: 6,
      trust: 'organic',
    })
    expect(r.trust.warmUp?.reached).toBe(true)
    expect(r.trust.warmUp?.pairs).toBe(20)
    expect(r.falseBlocks).toBe(0)
    expect(r.missedDetectedBlocks).toBe(0)
    expect(r.trust.final.hostileMean as number).toBeLessThan(r.trust.final.honestMean as number)
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
