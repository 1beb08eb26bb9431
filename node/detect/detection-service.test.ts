import { afterEach, describe, expect, it, vi } from 'vitest'
import { ShieldwallConfigSchema } from '../../config/schema.ts'
import type { AlertInput, AlertService } from '../alerts/alert-service.ts'
import type { DecisionStore } from '../decisions/decision-store.ts'
import type { OffsetStore } from '../ingest/follow/offset-store.ts'
import { silentLogger } from '../logging/logger.ts'
import { createDetectionEngine } from './create-engine.ts'
import { detectionService } from './detection-service.ts'
import type { Finding } from './detector.ts'

function sighting(ip: string): Finding {
  return {
    detector: 'scenario',
    scenario: 'ssh-bf',
    ip,
    score: 0.3,
    events: 3,
    first: 0,
    last: 2000,
    reasons: [],
  }
}

/**
 * The sighting hold on its own: what goes out to the network and when. The alert service here only records what
 * it is asked to publish (signing and gossip have their own tests, and the multi-node ones in test/ run all of it).
 */
function setup(holdMs: number, settled: Set<string>) {
  const published: AlertInput[] = []
  const alerts = {
    publish: async (input: AlertInput) => void published.push(input),
  } as unknown as AlertService
  const service = detectionService({ sightingHoldMs: holdMs })({
    engine: createDetectionEngine(ShieldwallConfigSchema.parse({}).detect),
    decisions: {} as DecisionStore,
    offsets: {} as OffsetStore,
    alerts,
    logger: silentLogger(),
    heardEnough: (ip) => settled.has(ip),
    random: () => 0.5,
  })
  return { service, published }
}

describe('DetectionService sighting hold', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('publishes a sighting after its random hold unless other nodes settled the address meanwhile', async () => {
    vi.useFakeTimers()
    const settled = new Set<string>()
    const { service, published } = setup(2000, settled)
    service.sight(sighting('192.0.2.1'))
    service.sight(sighting('192.0.2.2'))
    await vi.advanceTimersByTimeAsync(999)
    expect(published).toEqual([])
    // during the hold (random 0.5 of 2 s) enough reports about .2 arrive from others
    settled.add('192.0.2.2')
    await vi.advanceTimersByTimeAsync(1)
    expect(published.map((p) => p.indicator)).toEqual(['192.0.2.1'])
    expect(service.sightingCounts).toEqual({ seen: 2, published: 1, dropped: 0, suppressed: 1 })
  })

  it('publishes at once with no hold, and a stop cancels sightings still held', async () => {
    vi.useFakeTimers()
    const now = setup(0, new Set())
    now.service.sight(sighting('192.0.2.3'))
    await vi.advanceTimersByTimeAsync(0)
    expect(now.published.map((p) => p.indicator)).toEqual(['192.0.2.3'])

    const held = setup(2000, new Set())
    held.service.sight(sighting('192.0.2.4'))
    await held.service.stop()
    await vi.advanceTimersByTimeAsync(5000)
    expect(held.published).toEqual([])
  })
})
