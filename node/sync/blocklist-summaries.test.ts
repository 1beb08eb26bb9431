import { describe, expect, it } from 'vitest'
import { MAX_SUMMARY_ENTRIES } from '../../protocol/messages/blocklist-summary.ts'
import { buildSummary } from './blocklist-summaries.ts'

describe('buildSummary', () => {
  const now = 1_700_000_000_000
  const later = now + 60_000

  it('keeps valid unexpired entries, highest score first, and counts them', () => {
    const body = buildSummary(
      [
        { value: '203.0.113.7', score: 0.4, scenario: 'ssh-bf', expiresAt: later },
        { value: '198.51.100.0/24', score: 0.9, scenario: 'http-probing', expiresAt: later },
        { value: '203.0.113.8', score: 0.99, scenario: 'ssh-bf', expiresAt: now },
        { value: '203.0.113.009', score: 0.5, scenario: 'ssh-bf', expiresAt: later },
        { value: '203.0.113.10', score: 1.5, scenario: 'ssh-bf', expiresAt: later },
        { value: '203.0.113.11', score: 0.5, scenario: 'Bad Scenario', expiresAt: later },
      ],
      now,
    )
    expect(body).toEqual({
      entries: [
        { value: '198.51.100.0/24', score: 0.9, scenario: 'http-probing', expiresAt: later },
        { value: '203.0.113.7', score: 0.4, scenario: 'ssh-bf', expiresAt: later },
      ],
      generatedAt: now,
      total: 2,
      truncated: false,
    })
  })

  it('truncates to the cap and says so', () => {
    const many = Array.from({ length: MAX_SUMMARY_ENTRIES + 5 }, (_, i) => ({
      value: `10.${Math.floor(i / 250)}.${i % 250}.1`,
      score: (i % 100) / 100,
      scenario: 'ssh-bf',
      expiresAt: later,
    }))
    const body = buildSummary(many, now, 10)
    expect(body.entries).toHaveLength(10)
    expect(body.total).toBe(MAX_SUMMARY_ENTRIES + 5)
    expect(body.truncated).toBe(true)
    expect(body.entries.every((e) => e.score === 0.99)).toBe(true)
  })
})
