import { describe, expect, it } from 'vitest'
import { DEFAULT_BLOCK_POLICY, type BlockVerdict } from './decide-block.ts'
import { EvidenceBook, STAND_IN_REWEIGH_MS, type StoredReport } from './evidence-book.ts'

const NOW = 1_700_000_000_000

function setup(
  over: { maxIndicators?: number; maxReportsPerIndicator?: number; minReporterSlots?: number } = {},
) {
  const trust = new Map<string, number>()
  const applied: [string, BlockVerdict][] = []
  let now = NOW
  const book = new EvidenceBook<string>(
    {
      policy: DEFAULT_BLOCK_POLICY,
      maxIndicators: over.maxIndicators ?? 100,
      maxReportsPerIndicator: over.maxReportsPerIndicator ?? 8,
      maxLocalPerIndicator: 2,
      ...(over.minReporterSlots !== undefined ? { minReporterSlots: over.minReporterSlots } : {}),
    },
    {
      apply: async (value, verdict) => {
        applied.push([value, verdict])
        return verdict.block ? 'block' : 'pass'
      },
      trustOf: (p) => trust.get(p) ?? 0,
      admits: (i) => !i.canonical.startsWith('10.'),
      clock: () => now,
    },
  )
  return { book, trust, applied, advance: (ms: number) => (now += ms) }
}

function report(reporter: string, over: Partial<StoredReport> = {}): StoredReport {
  return { reporter, confidence: 0.9, scenario: 'ssh-bf', severity: 'high', at: NOW, ...over }
}

describe('EvidenceBook', () => {
  it('weighs a restated stand-in again only after STAND_IN_REWEIGH_MS or when its confidence moved', async () => {
    const { book, trust, applied } = setup()
    trust.set('a', 0.9).set('b', 0.9)
    const standIn = (over: Partial<StoredReport>) => report('a', { standIn: true, confidence: 0.45, ...over })
    await book.addReport('192.0.2.1', standIn({}))
    // the next summaries restate it, its score drifting a little
    expect(await book.addReport('192.0.2.1', standIn({ at: NOW + 60_000, confidence: 0.44 }))).toBeUndefined()
    expect(await book.addReport('192.0.2.1', standIn({ at: NOW + 120_000 }))).toBeUndefined()
    expect(applied).toHaveLength(1)
    expect(book.stats().repeatedStandIns).toBe(2)
    // the held one keeps its time, so the repeats do not push its re-weighing back
    await book.addReport('192.0.2.1', standIn({ at: NOW + STAND_IN_REWEIGH_MS }))
    expect(applied).toHaveLength(2)
    // a real change is weighed at once: a higher score, and the reporter's own alert
    await book.addReport('192.0.2.1', standIn({ at: NOW + STAND_IN_REWEIGH_MS + 1, confidence: 0.6 }))
    await book.addReport('192.0.2.1', report('a', { at: NOW + STAND_IN_REWEIGH_MS + 2 }))
    expect(applied).toHaveLength(4)
    // and every other reporter's voice still counts in full
    expect(await book.addReport('192.0.2.1', report('b', { at: NOW + STAND_IN_REWEIGH_MS + 3 }))).toBe(
      'block',
    )
    expect(book.stats().repeatedStandIns).toBe(2)
  })

  it('weighs each new report with current trust and applies the verdict', async () => {
    const { book, trust, applied } = setup()
    trust.set('a', 0.9).set('b', 0.9)
    expect(await book.addReport('::ffff:192.0.2.1', report('a'))).toBe('pass')
    expect(await book.addReport('192.0.2.1', report('b'))).toBe('block')
    expect(applied.map(([v]) => v)).toEqual(['192.0.2.1', '192.0.2.1'])
    expect(book.weigh('192.0.2.1')?.reporters).toEqual(['a', 'b'])
    expect(await book.addReport('10.0.0.1', report('a'))).toBeUndefined()
    expect(book.stats()).toMatchObject({ indicators: 1, reports: 2, notAdmitted: 1 })
  })

  it('keeps one report per reporter, the latest', async () => {
    const { book, trust } = setup()
    trust.set('a', 0.9)
    await book.addReport('192.0.2.1', report('a', { scenario: 'ssh-bf' }))
    await book.addReport('192.0.2.1', report('a', { scenario: 'http-probing', at: NOW + 1 }))
    await book.addReport('192.0.2.1', report('a', { scenario: 'old', at: NOW - 1 }))
    expect(book.stats().reports).toBe(1)
    expect(book.weigh('192.0.2.1')?.scenario).toBe('http-probing')
  })

  it('evicts the least trusted report when an indicator is full, so Sybils cannot push trusted ones out', async () => {
    const { book, trust } = setup({ maxReportsPerIndicator: 4 })
    trust.set('a', 0.9).set('b', 0.8)
    await book.addReport('192.0.2.1', report('a'))
    await book.addReport('192.0.2.1', report('b'))
    for (let i = 0; i < 20; i++) await book.addReport('192.0.2.1', report(`s${i}`))
    const v = book.weigh('192.0.2.1')!
    expect(v.block).toBe(true)
    expect(v.reporters.slice(0, 2)).toEqual(['a', 'b'])
    expect(book.stats()).toMatchObject({ reports: 4, evictedReports: 18 })
  })

  it('evicts the least recently updated indicator when full', async () => {
    const { book, trust } = setup({ maxIndicators: 2 })
    trust.set('a', 0.9)
    await book.addReport('192.0.2.1', report('a'))
    await book.addReport('192.0.2.2', report('a'))
    await book.addReport('192.0.2.1', report('a', { at: NOW + 1 }))
    await book.addReport('192.0.2.3', report('a'))
    expect(book.weigh('192.0.2.2')).toBeUndefined()
    expect(book.weigh('192.0.2.1')).toBeDefined()
    expect(book.stats()).toMatchObject({ indicators: 2, reports: 2, evictedIndicators: 1 })
    // the evicted indicator is no longer re-weighed when a's trust changes
    expect(await book.reporterTrustChanged('a')).toBe(2)
  })

  it('re-weighs every indicator a reporter spoke about when its trust changes', async () => {
    const { book, trust, applied } = setup()
    trust.set('a', 0.9).set('b', 0.9)
    for (const ip of ['192.0.2.1', '192.0.2.2']) {
      await book.addReport(ip, report('a'))
      await book.addReport(ip, report('b'))
    }
    applied.length = 0
    trust.set('b', 0.1)
    expect(await book.reporterTrustChanged('b')).toBe(2)
    expect(applied.map(([v, verdict]) => [v, verdict.block])).toEqual([
      ['192.0.2.1', false],
      ['192.0.2.2', false],
    ])
    expect(await book.reporterTrustChanged('nobody')).toBe(0)
  })

  it("says whether a reporter's own alert is held, in any spelling of the address, without weighing", async () => {
    const { book, trust, applied, advance } = setup()
    trust.set('a', 0.9).set('b', 0.9)
    await book.addReport('192.0.2.1', report('a'))
    await book.addReport('192.0.2.1', report('b', { standIn: true }))
    const weighed = applied.length
    expect(book.hasAlertReport('::ffff:192.0.2.1', 'a')).toBe(true)
    expect(book.hasAlertReport('192.0.2.1', 'b')).toBe(false) // a stand-in is not the alert
    expect(book.hasAlertReport('192.0.2.1', 'c')).toBe(false)
    expect(book.hasAlertReport('192.0.2.2', 'a')).toBe(false)
    expect(applied.length).toBe(weighed)
    // a report past the maximum age no longer counts, even before anything prunes it
    advance(DEFAULT_BLOCK_POLICY.maxAgeMs + 1)
    expect(book.hasAlertReport('192.0.2.1', 'a')).toBe(false)
  })

  it("a reporter's alert outranks a summary's stand-in for it, whichever is newer", async () => {
    const { book, trust } = setup()
    trust.set('a', 0.9)
    // the summary arrives first and is newer than the alert it restates
    await book.addReport(
      '192.0.2.1',
      report('a', { confidence: 0.4, severity: 'medium', at: NOW + 60_000, standIn: true }),
    )
    await book.addReport('192.0.2.1', report('a', { confidence: 0.9, severity: 'high', at: NOW }))
    expect(book.hasAlertReport('192.0.2.1', 'a')).toBe(true)
    const withAlert = book.weigh('192.0.2.1')?.score as number
    // a later summary does not push the alert out
    await book.addReport(
      '192.0.2.1',
      report('a', { confidence: 0.4, severity: 'medium', at: NOW + 120_000, standIn: true }),
    )
    expect(book.hasAlertReport('192.0.2.1', 'a')).toBe(true)
    expect(book.weigh('192.0.2.1')?.score).toBe(withAlert)
    expect(book.stats().reports).toBe(1)
  })

  it('a newer stand-in refreshes an older one', async () => {
    const { book, trust } = setup()
    trust.set('a', 0.9)
    await book.addReport('192.0.2.1', report('a', { scenario: 'old', standIn: true }))
    await book.addReport('192.0.2.1', report('a', { scenario: 'new', at: NOW + 1, standIn: true }))
    await book.addReport('192.0.2.1', report('a', { scenario: 'older', at: NOW - 1, standIn: true }))
    expect(book.weigh('192.0.2.1')?.scenario).toBe('new')
  })

  it('drops evidence past the maximum age, and bounds local detections', async () => {
    const { book, trust, advance } = setup()
    trust.set('a', 0.9)
    await book.addReport('192.0.2.1', report('a'))
    for (let i = 0; i < 5; i++)
      await book.addLocal('192.0.2.1', { confidence: 0.1, scenario: 'x', at: NOW }, false)
    advance(DEFAULT_BLOCK_POLICY.maxAgeMs + 1)
    expect(book.weigh('192.0.2.1')).toBeUndefined()
    expect(book.stats()).toMatchObject({ indicators: 0, reports: 0 })
    expect(book.forget('192.0.2.1')).toBe(false)
  })

  it('a flood of untrusted-only indicators evicts only its own kind, never a trusted voice or local evidence', async () => {
    const { book, trust } = setup({ maxIndicators: 20 })
    trust.set('a', 0.9).set('b', 0.9)
    await book.addReport('192.0.2.1', report('a'))
    await book.addLocal('192.0.2.2', { confidence: 0.3, scenario: 'x', at: NOW }, false)
    // 40 fresh keys name 10 addresses each: 400 indicators through a book of 20
    for (let k = 0; k < 40; k++)
      for (let i = 0; i < 10; i++) await book.addReport(`198.51.${k}.${i}`, report(`sybil${k}`), false)
    expect(book.stats()).toMatchObject({ trustedIndicators: 2, evictedTrustedIndicators: 0 })
    expect(book.stats().indicators).toBeLessThanOrEqual(2 + 10)
    expect(await book.addReport('192.0.2.1', report('b'))).toBe('block')
    expect(book.weigh('192.0.2.1')?.reasons.join(' ')).toContain('2 trusted voices agree')
    expect(book.weigh('192.0.2.2')).toBeDefined()
  })

  it('evicts a trusted indicator only when the book holds nothing else', async () => {
    const { book, trust } = setup({ maxIndicators: 2 })
    trust.set('a', 0.9)
    await book.addReport('192.0.2.1', report('a'))
    await book.addReport('192.0.2.2', report('s'))
    await book.addReport('192.0.2.3', report('a'))
    expect(book.weigh('192.0.2.2')).toBeUndefined()
    expect(book.stats()).toMatchObject({ indicators: 2, evictedIndicators: 1, evictedTrustedIndicators: 0 })
    await book.addReport('192.0.2.4', report('a'))
    expect(book.weigh('192.0.2.1')).toBeUndefined()
    expect(book.stats()).toMatchObject({ evictedTrustedIndicators: 1 })
  })

  it("bounds the slots one reporter's reports occupy by its trust, its own oldest report making room", async () => {
    const { book, trust } = setup({ maxIndicators: 1000, minReporterSlots: 5 })
    trust.set('a', 0.9)
    for (let i = 0; i < 30; i++) await book.addReport(`198.51.100.${i}`, report('fresh'), false)
    expect(book.reporterSlots('fresh')).toBe(5)
    expect(book.stats()).toMatchObject({ indicators: 5, reports: 5, evictedOverReporterSlots: 25 })
    // the newest five are the ones kept
    expect(book.weigh('198.51.100.29')).toBeDefined()
    expect(book.weigh('198.51.100.24')).toBeUndefined()
    // a trusted reporter gets maxIndicators × REPORTER_SLOT_SHARE × trust
    expect(book.reporterSlots('a')).toBe(225)
    for (let i = 0; i < 30; i++) await book.addReport(`203.0.113.${i}`, report('a'), false)
    expect(book.stats()).toMatchObject({ reports: 35, evictedOverReporterSlots: 25 })
    // another reporter's voice on a shared indicator keeps it when the capped reporter's goes
    await book.addReport('203.0.113.0', report('fresh'), false)
    expect(book.stats()).toMatchObject({ indicators: 34, reports: 35, evictedOverReporterSlots: 26 })
    // five more push fresh's report on the shared indicator out too; a's keeps the indicator
    for (let i = 0; i < 5; i++) await book.addReport(`198.51.101.${i}`, report('fresh'), false)
    expect(book.stats()).toMatchObject({ indicators: 35, reports: 35, evictedOverReporterSlots: 31 })
    expect(book.weigh('203.0.113.0')).toBeDefined()
  })

  it('moves an indicator between the pools as its voices gain or lose trust', async () => {
    const { book, trust } = setup({ maxIndicators: 4 })
    trust.set('a', 0.9)
    await book.addReport('192.0.2.1', report('a'))
    expect(book.stats().trustedIndicators).toBe(1)
    trust.set('a', 0.1)
    await book.reporterTrustChanged('a')
    expect(book.stats().trustedIndicators).toBe(0)
    trust.set('a', 0.9)
    await book.reporterTrustChanged('a')
    expect(book.stats().trustedIndicators).toBe(1)
  })
})
