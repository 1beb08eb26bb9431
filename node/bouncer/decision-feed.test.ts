import { describe, expect, it } from 'vitest'
import { parseIndicator } from '../../protocol/indicator.ts'
import { ChangeJournal } from './change-journal.ts'
import { buildFilter, DecisionFeed, toCrowdsecDecision, type PullOptions } from './decision-feed.ts'
import { MemoryBlocklist } from './memory-blocklist.ts'

const T0 = Date.UTC(2025, 0, 1)

function setup(capacity = 1000) {
  let now = T0
  const clock = () => now
  const list = new MemoryBlocklist({ clock })
  const journal = new ChangeJournal({ capacity, clock })
  journal.follow(list)
  const feed = new DecisionFeed(list, journal, { clock })
  const advance = (ms: number) => (now += ms)
  return { list, journal, feed, advance }
}

const STREAM: PullOptions = {
  startup: false,
  filter: buildFilter({ scopes: 'ip,range' }),
  deletedOnStartup: true,
}
const values = (entries: Iterable<{ value: string }>) => [...entries].map((e) => e.value)

describe('toCrowdsecDecision', () => {
  it('gives the LAPI shape with the time left as a Go duration', () => {
    const { list } = setup()
    const entry = list.block({
      value: '192.0.2.0/24',
      scenario: 'ssh-bf',
      origin: 'community',
      durationMs: 4 * 3600_000,
    })
    expect(toCrowdsecDecision(entry, T0 + 1877)).toEqual({
      id: entry.id,
      origin: 'CAPI',
      type: 'ban',
      scope: 'Range',
      value: '192.0.2.0/24',
      duration: '3h59m58.123s',
      scenario: 'shieldwall/ssh-bf',
    })
    // an entry removed early ends at its removal: negative time left, as LAPI gives for deleted decisions
    expect(toCrowdsecDecision(entry, T0 + 5000, T0 + 2500).duration).toBe('-2.5s')
  })

  it('reports a block that never expires as the longest duration Go can parse', () => {
    const { list } = setup()
    const entry = list.block({ value: '192.0.2.1', expiresAt: 8_640_000_000_000_000 })
    expect(toCrowdsecDecision(entry, T0).duration).toBe('2562047h47m16.854s')
  })
})

describe('DecisionFeed.query', () => {
  it('finds the decisions covering an address, including ranges, and nothing for a miss', () => {
    const { list, feed } = setup()
    const host = list.block({ value: '203.0.113.7', origin: 'local', scenario: 'http-probe' })
    const net = list.block({ value: '203.0.113.0/24', origin: 'manual' })
    list.block({ value: '2001:db8::/32' })
    const ip = (text: string) => feed.query({ address: parseIndicator(text) })
    expect(ip('203.0.113.7').map((d) => d.id)).toEqual([host.id, net.id])
    expect(ip('203.0.113.8').map((d) => d.scope)).toEqual(['Range'])
    expect(ip('2001:db8::99').map((d) => d.value)).toEqual(['2001:db8::/32'])
    expect(ip('198.51.100.1')).toEqual([])
    expect(
      feed.query({ address: parseIndicator('203.0.113.7'), origins: new Set(['crowdsec']) }),
    ).toHaveLength(1)
  })

  it('answers range queries both ways, as LAPI does with contains=true|false', () => {
    const { list, feed } = setup()
    list.block({ value: '10.0.0.0/8' })
    list.block({ value: '10.1.2.0/24' })
    list.block({ value: '10.1.2.3' })
    list.block({ value: '10.9.9.9' })
    const range = parseIndicator('10.1.0.0/16')
    expect(values(feed.query({ address: range }))).toEqual(['10.0.0.0/8'])
    expect(values(feed.query({ address: range, contains: false }))).toEqual(['10.1.2.0/24', '10.1.2.3'])
    expect(values(feed.query({ address: parseIndicator('10.1.2.3'), contains: false }))).toEqual(['10.1.2.3'])
  })

  it('filters by value, scope, type, origin and scenario words', () => {
    const { list, feed } = setup()
    list.block({ value: '192.0.2.1', scenario: 'ssh-bf', origin: 'local' })
    list.block({ value: '192.0.2.0/28', scenario: 'http-crawl', origin: 'community' })
    list.block({ value: '2001:db8::1', scenario: 'ssh-slow-bf', origin: 'manual' })
    const q = (params: Parameters<typeof buildFilter>[0]) => values(feed.query(buildFilter(params)))
    expect(q({})).toHaveLength(3)
    expect(q({ value: '2001:DB8:0::1' })).toEqual(['2001:db8::1'])
    expect(q({ scopes: 'Range' })).toEqual(['192.0.2.0/28'])
    expect(q({ type: 'captcha' })).toEqual([])
    expect(q({ origins: 'CAPI,cscli' })).toEqual(['192.0.2.0/28', '2001:db8::1'])
    expect(q({ origins: 'local' })).toEqual(['192.0.2.1'])
    expect(q({ scenariosContaining: 'SSH' })).toEqual(['192.0.2.1', '2001:db8::1'])
    expect(q({ scenariosNotContaining: 'slow,crawl' })).toEqual(['192.0.2.1'])
    expect(q({ scenariosContaining: 'shieldwall/http' })).toEqual(['192.0.2.0/28'])
  })

  it('leaves out entries whose time is up even before the list removes them', () => {
    const { list, feed, advance } = setup()
    list.block({ value: '192.0.2.1', durationMs: 1000 })
    advance(1000)
    expect(feed.query({ address: parseIndicator('192.0.2.1') })).toEqual([])
  })
})

describe('DecisionFeed.pull', () => {
  it('gives all active decisions at startup, then only what changed since each bouncer last pulled', () => {
    const { list, feed, advance } = setup()
    const a = list.block({ value: '192.0.2.1' })
    const b = list.block({ value: '192.0.2.2' })
    const first = feed.pull('fw', { ...STREAM, startup: true })
    expect(first.mode).toBe('startup')
    expect(values(first.added)).toEqual(['192.0.2.1', '192.0.2.2'])
    expect([...first.deleted]).toEqual([])
    first.commit()

    const empty = feed.pull('fw', STREAM)
    expect([empty.mode, [...empty.added], [...empty.deleted]]).toEqual(['delta', [], []])
    empty.commit()

    advance(100)
    list.unblock('192.0.2.1')
    const c = list.block({ value: '198.51.100.0/24' })
    const delta = feed.pull('fw', STREAM)
    expect([...delta.added].map((e) => e.id)).toEqual([c.id])
    expect([...delta.deleted].map((d) => [d.entry.id, d.endedAt])).toEqual([[a.id, T0 + 100]])
    delta.commit()

    // another bouncer has its own cursor: it has never pulled, so it resyncs
    const other = feed.pull('nginx', STREAM)
    expect(other.mode).toBe('resync')
    expect([...other.added].map((e) => e.id)).toEqual([b.id, c.id])
  })

  it('does not move the cursor when the answer was not committed (a failed send is resent)', () => {
    const { list, feed } = setup()
    feed.pull('fw', { ...STREAM, startup: true }).commit()
    list.block({ value: '192.0.2.1' })
    expect([...feed.pull('fw', STREAM).added]).toHaveLength(1)
    const again = feed.pull('fw', STREAM)
    expect([...again.added]).toHaveLength(1)
    again.commit()
    expect([...feed.pull('fw', STREAM).added]).toHaveLength(0)
  })

  it('collapses a run of changes: renewals are delete+add, add-then-remove is invisible', () => {
    const { list, feed } = setup()
    const old = list.block({ value: '192.0.2.1' })
    feed.pull('fw', { ...STREAM, startup: true }).commit()
    const renewed = list.block({ value: '192.0.2.1', durationMs: 9_000_000 })
    list.block({ value: '192.0.2.9' })
    list.unblock('192.0.2.9')
    const pull = feed.pull('fw', STREAM)
    expect([...pull.deleted].map((d) => d.entry.id)).toEqual([old.id])
    expect([...pull.added].map((e) => e.id)).toEqual([renewed.id])
  })

  it('applies the stream filters to new and deleted alike', () => {
    const { list, feed } = setup()
    feed.pull('fw', { ...STREAM, startup: true }).commit()
    list.block({ value: '192.0.2.1', scenario: 'ssh-bf' })
    list.block({ value: '192.0.2.0/24', scenario: 'http-crawl' })
    const filter = buildFilter({ scopes: 'ip', scenariosNotContaining: 'crawl' })
    const pull = feed.pull('fw', { ...STREAM, filter })
    expect(values(pull.added)).toEqual(['192.0.2.1'])
  })

  it('lists recently ended decisions as deleted at startup, unless the value is blocked again', () => {
    const { list, feed, advance } = setup()
    list.block({ value: '192.0.2.1', durationMs: 1000 })
    list.block({ value: '192.0.2.2' })
    list.block({ value: '192.0.2.3' })
    list.unblock('192.0.2.2')
    list.unblock('192.0.2.3')
    list.block({ value: '192.0.2.3' })
    advance(2000)
    list.expire()
    const startup = feed.pull('fw', { ...STREAM, startup: true })
    expect(values([...startup.deleted].map((d) => d.entry))).toEqual(['192.0.2.1', '192.0.2.2'])
    expect(values(startup.added)).toEqual(['192.0.2.3'])
    const firewall = feed.pull('fw', { ...STREAM, startup: true, deletedOnStartup: false })
    expect([...firewall.deleted]).toEqual([])
  })

  it('resyncs a bouncer whose cursor fell out of the journal', () => {
    const { list, feed } = setup(2)
    list.block({ value: '192.0.2.1' })
    feed.pull('fw', { ...STREAM, startup: true }).commit()
    for (let i = 2; i <= 5; i++) list.block({ value: `192.0.2.${i}` })
    const pull = feed.pull('fw', STREAM)
    expect(pull.mode).toBe('resync')
    expect([...pull.added]).toHaveLength(5)
    pull.commit()
    expect(feed.pull('fw', STREAM).mode).toBe('delta')
    feed.forget('fw')
    expect(feed.cursor('fw')).toBeUndefined()
  })
})
