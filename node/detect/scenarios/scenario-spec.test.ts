import { describe, expect, it } from 'vitest'
import type { EventKind } from '../../ingest/event.ts'
import { newEvent } from '../../ingest/parsers/new-event.ts'
import { HTTP_SCENARIOS } from './http-scenarios.ts'
import { ALL_SCENARIOS } from './scenario-detector.ts'
import { uniformSpec, withParams } from './scenario-spec.ts'

describe('ScenarioSpec.requires', () => {
  it('never widens a filter: without one of its flags, the filter refuses every event', () => {
    const events = []
    for (const kind of ['http_request', 'http_auth_failure', 'http_error'] as EventKind[])
      for (const status of [200, 301, 401, 403, 404, 500]) {
        const e = newEvent(0, '192.0.2.1', 'http', kind, undefined)
        e.status = status
        e.path = '/index.php?id=1'
        e.userAgent = 'curl/8.5.0'
        events.push(e)
      }
    const specs = HTTP_SCENARIOS.filter((s) => s.requires !== undefined)
    expect(specs.length).toBeGreaterThanOrEqual(9)
    for (const spec of specs) {
      const requires = spec.requires as number
      for (let flags = 0; flags < 1 << 11; flags++) {
        if ((flags & requires) !== 0) continue
        for (const e of events) expect(spec.filter(e, flags), `${spec.name} flags ${flags}`).toBe(false)
      }
    }
  })
})

describe('uniformSpec', () => {
  it('gives every spec, overridden or not, the same fields in the same order and the same values', () => {
    const shapes = new Set(
      ALL_SCENARIOS.flatMap((s) => [uniformSpec(s), uniformSpec(withParams(s, { capacity: 2 }))]).map((u) =>
        Object.keys(u).join(),
      ),
    )
    expect(shapes.size).toBe(1)
    for (const s of ALL_SCENARIOS) {
      const u = uniformSpec(s)
      for (const [k, v] of Object.entries(s)) expect(u[k as keyof typeof u]).toBe(v)
      expect(u.requires).toBe(s.requires ?? 0)
    }
  })
})
