import { generateKeyPair } from '@libp2p/crypto/keys'
import { afterAll, describe, expect, it } from 'vitest'
import { generateSecretKey, getPublicKey } from '../../crypto/signing/ed25519.ts'
import { MAX_SUMMARY_ENTRIES, type SummaryEntry } from '../../protocol/messages/blocklist-summary.ts'
import { TOPICS } from '../../protocol/topics.ts'
import { waitFor } from '../../test/helpers/test-node.ts'
import { silentLogger } from '../logging/logger.ts'
import { createHost, type ShieldwallHost } from '../p2p/create-host.ts'
import { blocklistSummaries, buildSummary, summaryDue, summaryFingerprint } from './blocklist-summaries.ts'

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

describe('summaryDue', () => {
  const entry = (value: string, score = 0.9): SummaryEntry => ({
    value,
    score,
    scenario: 'ssh-bf',
    expiresAt: 2e12,
  })
  const body = (...entries: SummaryEntry[]) => ({
    entries,
    generatedAt: 0,
    total: entries.length,
    truncated: false,
  })

  it('sends the first, a changed set of blocks, one after a new subscriber, and a refresh; not a repeat', () => {
    const a = summaryFingerprint(body(entry('192.0.2.1'), entry('192.0.2.2')))
    // the same blocks in another order, with drifted scores, are the same summary
    expect(summaryFingerprint(body(entry('192.0.2.2', 0.5), entry('192.0.2.1', 0.7)))).toBe(a)
    const b = summaryFingerprint(body(entry('192.0.2.1')))
    const last = { fingerprint: a, at: 1000 }
    expect(summaryDue(undefined, a, 1000, 150_000, false)).toBe(true)
    expect(summaryDue(last, a, 61_000, 150_000, false)).toBe(false)
    expect(summaryDue(last, b, 61_000, 150_000, false)).toBe(true)
    expect(summaryDue(last, a, 61_000, 150_000, true)).toBe(true)
    expect(summaryDue(last, a, 151_000, 150_000, false)).toBe(true)
  })
})

describe('BlocklistSummaryService between two real hosts', () => {
  const hosts: ShieldwallHost[] = []
  afterAll(async () => {
    await Promise.all(hosts.map((h) => h.stop()))
  })

  it('repeats an unchanged summary only for a new subscriber, and sends a changed one at once', async () => {
    const host = async (name: string) => {
      const h = await createHost({
        privateKey: await generateKeyPair('Ed25519'),
        listen: [`/memory/summaries-${name}-${process.pid}`],
        dht: { enabled: false, protocolPrefix: '/shieldwall' },
      })
      hosts.push(h)
      return h
    }
    const a = await host('a')
    const b = await host('b')
    let blocked = [{ value: '192.0.2.1', score: 0.9, scenario: 'ssh-bf', expiresAt: Date.now() + 3_600_000 }]
    let seq = 0
    const secretKey = generateSecretKey()
    const service = blocklistSummaries({ intervalMs: 100, refreshMs: 60_000 })({
      pubsub: a.services.pubsub,
      sequence: { next: async () => ++seq },
      secretKey,
      publicKey: getPublicKey(secretKey),
      source: () => blocked,
      logger: silentLogger(),
    })
    const heard: string[][] = []
    const listener = blocklistSummaries({ publish: false })({
      pubsub: b.services.pubsub,
      sequence: { next: async () => 0 },
      secretKey: generateSecretKey(),
      publicKey: getPublicKey(generateSecretKey()),
      logger: silentLogger(),
    })
    listener.onSummary((_, body) => heard.push(body.entries.map((e) => e.value)))
    service.start()
    listener.start()
    try {
      await waitFor(() => service.counts.published === 1, 2000, 'the first summary')
      await waitFor(() => service.counts.unchanged >= 3, 2000, 'intervals with nothing new')
      expect(service.counts.published).toBe(1)

      // B joins after the summary went out: it subscribes, and A sends its unchanged list once more, for B
      await b.dial(a.getMultiaddrs()[0])
      await waitFor(() => heard.length === 1, 5000, 'B to hear the summary')
      expect(heard[0]).toEqual(['192.0.2.1'])
      expect(service.counts.published).toBe(2)
      const unchanged = service.counts.unchanged
      await waitFor(() => service.counts.unchanged >= unchanged + 3, 2000, 'quiet again')
      expect(service.counts.published).toBe(2)

      blocked = [...blocked, { ...blocked[0], value: '192.0.2.2' }]
      await waitFor(() => heard.length === 2, 2000, 'the changed summary')
      expect(heard[1]).toEqual(['192.0.2.1', '192.0.2.2'])
      expect(b.services.pubsub.getSubscribers(TOPICS.blocklists).length).toBe(1)
    } finally {
      service.stop()
      listener.stop()
    }
  })
})
