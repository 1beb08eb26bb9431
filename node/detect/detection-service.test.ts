import { afterEach, describe, expect, it, vi } from 'vitest'
import { ShieldwallConfigSchema } from '../../config/schema.ts'
import type { AlertInput, AlertService } from '../alerts/alert-service.ts'
import type { DecisionStore } from '../decisions/decision-store.ts'
import type { OffsetStore } from '../ingest/follow/offset-store.ts'
import { silentLogger } from '../logging/logger.ts'
import { createDetectionEngine } from './create-engine.ts'
import { detectionService } from './detection-service.ts'
import type { Finding } from './detector.ts'

type Advice = 'send' | 'hold' | 'skip'

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
function setup(holdMs: number, advice: Map<string, Advice>) {
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
    reportAdvice: (ip) => advice.get(ip) ?? 'send',
    random: () => 0.5,
  })
  return { service, published }
}

describe('DetectionService sighting hold', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('sends at once what a block may need, skips what others settled, and holds what they are settling', async () => {
    vi.useFakeTimers()
    const advice = new Map<string, Advice>([
      ['192.0.2.2', 'skip'],
      ['192.0.2.3', 'hold'],
      ['192.0.2.4', 'hold'],
    ])
    const { service, published } = setup(2000, advice)
    for (const ip of ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4']) service.sight(sighting(ip))
    await vi.advanceTimersByTimeAsync(0)
    expect(published.map((p) => p.indicator)).toEqual(['192.0.2.1'])
    await vi.advanceTimersByTimeAsync(998)
    expect(published).toHaveLength(1)
    // during the hold (random 0.5 of 2 s) the others' reports about .3 become enough; .4 still needs ours
    advice.set('192.0.2.3', 'skip')
    await vi.advanceTimersByTimeAsync(2)
    expect(published.map((p) => p.indicator)).toEqual(['192.0.2.1', '192.0.2.4'])
    expect(service.sightingCounts).toEqual({ seen: 4, published: 2, dropped: 0, suppressed: 2 })
  })

  it('holds nothing with no hold time, and a stop cancels sightings still held', async () => {
    vi.useFakeTimers()
    const now = setup(0, new Map([['192.0.2.5', 'hold']]))
    now.service.sight(sighting('192.0.2.5'))
    await vi.advanceTimersByTimeAsync(0)
    expect(now.published.map((p) => p.indicator)).toEqual(['192.0.2.5'])

    const held = setup(2000, new Map([['192.0.2.6', 'hold']]))
    held.service.sight(sighting('192.0.2.6'))
    await held.service.stop()
    await vi.advanceTimersByTimeAsync(5000)
    expect(held.published).toEqual([])
  })
})
