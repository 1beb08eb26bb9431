import { describe, expect, it } from 'vitest'
import { evaluateAssertions, metricValue } from './report.ts'

describe('scenario assertions', () => {
  const report = { falseBlocks: 0, propagation: { p99Ms: 800 }, churn: { lateJoinerCoverage: null } }
  const caps = { nodes: 10, honestNodes: 7, capabilities: new Set<'sightings'>() }

  it('reads dotted metrics', () => {
    expect(metricValue(report, 'propagation.p99Ms')).toBe(800)
    expect(metricValue(report, 'churn.lateJoinerCoverage')).toBeNull()
    expect(metricValue(report, 'nope.deeper')).toBeNull()
  })

  it('passes, fails, and skips what needs a missing feature', () => {
    const results = evaluateAssertions(
      [
        { metric: 'propagation.p99Ms', op: '<=', value: 1000, because: 'fast' },
        { metric: 'falseBlocks', op: '>', value: { of: 'honestNodes', times: 0 }, because: 'scaled' },
        { metric: 'churn.lateJoinerCoverage', op: '>=', value: 1, because: 'absent is a failure' },
        { metric: 'falseBlocks', op: '==', value: 0, because: 'needs it', requires: ['sightings'] },
      ],
      report,
      caps,
    )
    expect(results.map((r) => r.status)).toEqual(['pass', 'fail', 'fail', 'skipped'])
  })
})
