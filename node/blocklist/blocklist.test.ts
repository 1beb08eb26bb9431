import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Decision } from '../detect/ensemble.ts'
import { openStore, type Store } from '../store/open-store.ts'
import type { BlockChange } from './block-entry.ts'
import { blocklist, NEVER, readStoredEntries, type Blocklist, type BlocklistInit } from './blocklist.ts'
import type { BlockVerdict } from './decide-block.ts'

const T0 = 1_700_000_000_000
const HOUR = 3600_000

let dir: string
let store: Store
let now: number
const trust = new Map<string, number>()
const open: Blocklist[] = []

async function make(init: Partial<BlocklistInit> = {}): Promise<Blocklist> {
  const list = blocklist(init)({ store, clock: () => now, trustOf: (p) => trust.get(p) ?? 0 })
  await list.open()
  open.push(list)
  return list
}

function record(list: Blocklist): string[] {
  const seen: string[] = []
  list.onChange((c: BlockChange) =>
    seen.push(
      c.kind === 'added' ? `added ${c.entry.value} #${c.entry.id}` : `removed ${c.entry.value} ${c.reason}`,
    ),
  )
  return seen
}

function verdict(over: Partial<BlockVerdict> = {}): BlockVerdict {
  return {
    block: true,
    origin: 'community',
    score: 0.8,
    localScore: 0,
    scenario: 'ssh-bf',
    reasons: ['blocked: 2 trusted voices agree'],
    reporters: ['peer-a', 'peer-b'],
    agreeing: 2,
    ...over,
  }
}

/** a peer's report on an address, at the current time */
function peerReport(reporter: string) {
  return { reporter, confidence: 0.95, scenario: 'ssh-bf', severity: 'high' as const, at: now }
}

function decision(ip: string, over: Partial<Decision> = {}): Decision {
  return {
    ip,
    scenario: 'ssh-bf',
    severity: 'high',
    confidence: 0.9,
    reasons: ['12 failed logins in 60 s'],
    detectors: ['ssh-bf'],
    events: 12,
    first: now - 60_000,
    last: now,
    offence: 1,
    durationSeconds: 3600,
    decidedAt: now,
    expiresAt: now + HOUR,
    ...over,
  }
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shieldwall-blocklist-'))
  store = await openStore(dir)
  now = T0
  trust.clear()
})

afterEach(async () => {
  for (const list of open.splice(0)) await list.stop()
  await store.close()
  await rm(dir, { recursive: true, force: true })
})

describe('Blocklist', () => {
  it('adds and removes entries by hand; CIDRs cover their addresses, most specific first', async () => {
    const list = await make()
    const seen = record(list)
    const a = await list.add('203.0.113.7', { durationSeconds: 600, reason: 'seen on the honeypot' })
    const b = await list.add('203.0.113.0/24')
    expect(a).toMatchObject({
      id: 1,
      scope: 'ip',
      origin: 'manual',
      scenario: 'manual',
      expiresAt: T0 + 600_000,
    })
    expect(a.reasons).toEqual(['seen on the honeypot'])
    expect(b).toMatchObject({ id: 2, scope: 'range', expiresAt: NEVER, offence: 1 })
    expect(list.lookup('203.0.113.7').map((e) => e.id)).toEqual([1, 2])
    expect(list.lookup('203.0.113.8').map((e) => e.id)).toEqual([2])
    expect(list.lookup('::ffff:203.0.113.7').map((e) => e.id)).toEqual([1, 2])
    expect(list.lookup('198.51.100.1')).toEqual([])
    expect(list.get('203.0.113.0/24')?.id).toBe(2)
    expect(list.get('not an ip')).toBeUndefined()
    expect(await list.remove('203.0.113.7')).toMatchObject({ id: 1 })
    expect(await list.remove('203.0.113.7')).toBeUndefined()
    expect(list.size).toBe(1)
    expect(seen).toEqual(['added 203.0.113.7 #1', 'added 203.0.113.0/24 #2', 'removed 203.0.113.7 manual'])
  })

  it('refuses changes before open()', async () => {
    const list = blocklist()({ store })
    await expect(list.add('192.0.2.1')).rejects.toMatchObject({ name: 'BlocklistNotOpenError' })
  })

  it('refuses manual blocks that overlap the allowlist, with named errors', async () => {
    const list = await make({ allowlist: { extra: ['198.51.100.0/24'] } })
    list.allowlist.addSelf('203.0.113.5')
    for (const value of ['10.1.2.3', '127.0.0.1', '0.0.0.0/0', '203.0.113.0/24', '198.51.100.9', 'fe80::1']) {
      await expect(list.add(value), value).rejects.toMatchObject({ name: 'AllowlistedError' })
    }
    await expect(list.add('300.1.2.3')).rejects.toMatchObject({ name: 'InvalidIndicatorError' })
    await expect(list.add('192.0.2.1', { expiresAt: T0 - 1 })).rejects.toMatchObject({
      name: 'InvalidBlockError',
    })
    await expect(list.add('192.0.2.1', { durationSeconds: -5 })).rejects.toMatchObject({
      name: 'InvalidBlockError',
    })
    expect(list.size).toBe(0)
  })

  it('withdraws entries that a later allowlist addition overlaps', async () => {
    const list = await make()
    const seen = record(list)
    await list.add('203.0.113.0/24')
    await list.add('203.0.113.5')
    await list.add('192.0.2.1')
    list.allowlist.addSelf('203.0.113.5')
    // the address is allowed at once, before the purge is on disk
    expect(list.lookup('203.0.113.5')).toEqual([])
    await list.sweep()
    expect([...list.entries()].map((e) => e.value)).toEqual(['192.0.2.1'])
    expect(seen.filter((s) => s.startsWith('removed')).sort()).toEqual([
      'removed 203.0.113.0/24 allowlisted',
      'removed 203.0.113.5 allowlisted',
    ])
  })

  it('keeps entries, ids and offence counts across a restart and drops what expired meanwhile', async () => {
    const first = await make()
    await first.add('192.0.2.1', { durationSeconds: 60 })
    await first.add('192.0.2.2', { durationSeconds: 7200 })
    await first.applyEvidence('198.51.100.7', verdict())
    await first.stop()
    now += 120_000
    const second = await make()
    expect([...second.entries()].map((e) => [e.value, e.id]).sort()).toEqual([
      ['192.0.2.2', 2],
      ['198.51.100.7', 3],
    ])
    expect(second.size).toBe(2)
    const next = await second.add('192.0.2.3')
    expect(next.id).toBe(4)
    // 192.0.2.1 was blocked once before, so this is its second offence
    expect((await second.add('192.0.2.1')).offence).toBe(2)
    expect(await readStoredEntries(store, now)).toHaveLength(4)
  })

  it('expires entries lazily on lookup and in the sweep started by start()', async () => {
    const list = await make({ sweepMs: 10 })
    const seen = record(list)
    await list.add('192.0.2.1', { durationSeconds: 60 })
    await list.add('192.0.2.2', { durationSeconds: 60 })
    now += 61_000
    expect(list.get('192.0.2.1')).toBeUndefined()
    expect(list.lookup('192.0.2.1')).toEqual([])
    expect([...list.entries()]).toEqual([])
    await list.start()
    // the sweep runs on a real timer, late on a busy machine: wait for its work, not for a fixed time
    await vi.waitFor(
      async () => {
        expect(list.size).toBe(0)
        expect(seen.slice(2).sort()).toEqual(['removed 192.0.2.1 expired', 'removed 192.0.2.2 expired'])
        expect(await readStoredEntries(store, 0)).toEqual([])
      },
      { timeout: 30_000, interval: 10 },
    )
  })

  it('blocks repeat offenders for longer each time', async () => {
    const list = await make({ communityBanSeconds: 3600 })
    const lengths: number[] = []
    for (let i = 0; i < 3; i++) {
      const out = await list.applyEvidence('198.51.100.7', verdict())
      expect(out.action).toBe('added')
      const entry = (out as { entry: { expiresAt: number; createdAt: number; offence: number } }).entry
      expect(entry.offence).toBe(i + 1)
      lengths.push(entry.expiresAt - entry.createdAt)
      now = entry.expiresAt + 1000
      await list.sweep()
    }
    expect(lengths).toEqual([HOUR, 2 * HOUR, 4 * HOUR])
  })

  it('acts on local decisions, keeps their expiry, and skips allowlisted ones silently', async () => {
    const list = await make()
    const out = await list.applyLocal(decision('192.0.2.9'))
    expect(out).toMatchObject({
      action: 'added',
      entry: { origin: 'local', scenario: 'ssh-bf', score: 0.9, expiresAt: T0 + HOUR, reporters: [] },
    })
    expect(await list.applyLocal(decision('10.0.0.9'))).toEqual({ action: 'skipped', reason: 'allowlisted' })
    expect(await list.applyLocal(decision('bogus'))).toEqual({ action: 'skipped', reason: 'invalid' })
    expect(list.stats()).toMatchObject({
      size: 1,
      skippedAllowlisted: 1,
      skippedInvalid: 1,
      byOrigin: { local: 1 },
    })
  })

  it('renews an entry in force only for a worthwhile extension, and never over a manual entry', async () => {
    const list = await make()
    const seen = record(list)
    await list.applyLocal(decision('192.0.2.9'))
    now += 60_000
    expect(await list.applyLocal(decision('192.0.2.9'))).toMatchObject({
      action: 'unchanged',
      reason: 'already-blocked',
    })
    const renewed = await list.applyLocal(decision('192.0.2.9', { expiresAt: now + 4 * HOUR }))
    expect(renewed).toMatchObject({ action: 'renewed', entry: { id: 2, offence: 1 } })
    await list.add('192.0.2.9', { durationSeconds: 60 })
    expect(await list.applyEvidence('192.0.2.9', verdict())).toMatchObject({ reason: 'manual-entry-wins' })
    expect(seen).toEqual([
      'added 192.0.2.9 #1',
      'removed 192.0.2.9 replaced',
      'added 192.0.2.9 #2',
      'removed 192.0.2.9 replaced',
      'added 192.0.2.9 #3',
    ])
  })

  it('is settled on an address while a block holds it far from its end, or by hand', async () => {
    const list = await make()
    expect(list.settled('192.0.2.10')).toBe(false)
    await list.applyLocal(decision('192.0.2.10', { expiresAt: now + 4 * HOUR }))
    expect(list.settled('192.0.2.10')).toBe(true)
    // near its end new evidence may renew it: weigh it
    now += 3.5 * HOUR
    expect(list.settled('192.0.2.10')).toBe(false)
    await list.add('192.0.2.11', { durationSeconds: 60 })
    now += 50_000
    expect(list.settled('192.0.2.11')).toBe(true)
    now += HOUR
    expect(list.settled('192.0.2.10')).toBe(false)

    // evidence kept without weighing changes nothing now, and counts the next time the address is weighed
    trust.set('peer-a', 0.9).set('peer-b', 0.9)
    expect(await list.evidence.addReport('192.0.2.12', peerReport('peer-a'), false)).toBeUndefined()
    expect(await list.evidence.addReport('192.0.2.12', peerReport('peer-b'), false)).toBeUndefined()
    expect(list.get('192.0.2.12')).toBeUndefined()
    expect(await list.evidence.reevaluate('192.0.2.12')).toMatchObject({ action: 'added' })
  })

  it('skips evidence about ranges broader than the minimum prefix', async () => {
    const list = await make()
    expect(await list.applyEvidence('198.0.0.0/8', verdict())).toEqual({
      action: 'skipped',
      reason: 'too-broad',
    })
    expect(await list.applyEvidence('198.51.0.0/16', verdict())).toMatchObject({ action: 'added' })
    expect(list.stats().skippedTooBroad).toBe(1)
    // an admin may
    expect((await list.add('198.0.0.0/8')).scope).toBe('range')
  })

  it('blocks on two trusted reporters through the evidence book, never on fifty fresh ones', async () => {
    const list = await make()
    for (let i = 0; i < 50; i++) {
      trust.set(`fresh-${i}`, 0.1)
      await list.evidence.addReport('198.51.100.7', peerReport(`fresh-${i}`))
    }
    expect(list.get('198.51.100.7')).toBeUndefined()
    trust.set('peer-a', 0.8)
    trust.set('peer-b', 0.75)
    await list.evidence.addReport('198.51.100.7', peerReport('peer-a'))
    expect(list.get('198.51.100.7')).toBeUndefined()
    const out = await list.evidence.addReport('198.51.100.7', peerReport('peer-b'))
    expect(out).toMatchObject({ action: 'added', entry: { origin: 'community' } })
    const entry = list.get('198.51.100.7')!
    expect(entry.reporters.slice(0, 2)).toEqual(['peer-a', 'peer-b'])
    expect(entry.reasons.join(' ')).toMatch(/ssh-bf/)
    const full = (await list.details('198.51.100.7'))!
    expect(full.reporters.slice(0, 2)).toEqual(['peer-a', 'peer-b'])
    expect(full.reasons.at(-1)).toMatch(/^blocked: 2 trusted voices agree/)

    // peer-b turns out to lie: its trust collapses and the block rests on one voice
    trust.set('peer-b', 0)
    expect(await list.evidence.reporterTrustChanged('peer-b')).toBe(1)
    expect(list.get('198.51.100.7')).toBeUndefined()

    // reports per indicator are capped (32): the fresh identities pushed out each other, not peer-a or peer-b
    // allowlisted indicators are not even weighed
    expect(await list.evidence.addReport('10.9.9.9', peerReport('peer-a'))).toBeUndefined()
    expect(list.stats()).toMatchObject({
      size: 0,
      evidence: { indicators: 1, reports: 32, evictedReports: 20, notAdmitted: 1 },
    })
  })

  it('keeps reasons and all reporters on disk: details() and change events have them, reads are abridged', async () => {
    const list = await make()
    const changes: BlockChange[] = []
    list.onChange((c) => changes.push(c))
    const reporters = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6']
    const reasons = ['p1: ssh-bf, 40 failed logins', 'blocked: 6 trusted voices agree']
    await list.applyEvidence('198.51.100.7', verdict({ reporters, reasons }))
    await list.add('203.0.113.9', { durationSeconds: 600, reason: 'seen on the honeypot' })

    const slim = list.get('198.51.100.7')!
    expect(slim).toMatchObject({ value: '198.51.100.7', origin: 'community', scenario: 'ssh-bf', score: 0.8 })
    expect(slim.reporters).toEqual(['p1', 'p2', 'p3', 'p4'])
    expect(slim.reasons).toEqual(['ssh-bf: blocked on weighed community reports'])
    expect(list.lookup('198.51.100.7')[0]).toEqual(slim)
    expect(await list.details('198.51.100.7')).toEqual({ ...slim, reporters, reasons })
    expect(await list.details('198.51.100.8')).toBeUndefined()
    const [a, b] = await list.withDetails([list.get('203.0.113.9')!, slim])
    expect(a.reasons).toEqual(['seen on the honeypot'])
    expect(b.reporters).toEqual(reporters)

    // a renewal tells listeners the whole entry it replaced; a removal the whole entry removed
    now += 3 * HOUR
    await list.applyEvidence('198.51.100.7', verdict({ reporters, reasons }))
    expect(await list.remove('198.51.100.7')).toMatchObject({ id: 3, reporters, reasons })
    expect(
      changes.map((c) => [c.kind, c.entry.id, c.entry.reporters.length, c.entry.reasons.length]),
    ).toEqual([
      ['added', 1, 6, 2],
      ['added', 2, 0, 1],
      ['removed', 1, 6, 2],
      ['added', 3, 6, 2],
      ['removed', 3, 6, 2],
    ])
  })

  it('lists the newest entries first, at most `limit`, counting every match', async () => {
    const list = await make()
    for (let i = 1; i <= 5; i++) {
      await list.add(`192.0.2.${i}`, { durationSeconds: 600 })
      if (i % 2 === 0) now += 1000
    }
    await list.applyEvidence('198.51.100.7', verdict())
    const all = list.recent({ limit: 3 })
    expect(all.total).toBe(6)
    expect(all.entries.map((e) => e.value)).toEqual(['198.51.100.7', '192.0.2.5', '192.0.2.4'])
    expect(list.recent({ limit: 10, origin: 'manual' }).entries.map((e) => e.id)).toEqual([5, 4, 3, 2, 1])
    expect(list.recent({ limit: 0, origin: 'community' })).toEqual({ total: 1, entries: [] })
    now += HOUR
    expect(list.recent({ limit: 10 }).total).toBe(1)
  })

  it('sweeps many expired entries in batches, telling listeners each full entry', async () => {
    const list = await make()
    const removed: string[] = []
    list.onChange((c) => {
      if (c.kind === 'removed') removed.push(`${c.entry.value} ${c.entry.reasons[0]}`)
    })
    for (let i = 0; i < 2500; i++) {
      await list.add(`198.18.${i >> 8}.${i & 255}`, {
        durationSeconds: 60,
        reason: `r${i}`,
      })
    }
    expect(list.size).toBe(2500)
    now += 61_000
    expect(await list.sweep()).toBe(2500)
    expect(list.size).toBe(0)
    expect(removed).toHaveLength(2500)
    expect(removed[0]).toMatch(/ r\d+$/)
    expect(await readStoredEntries(store, 0)).toEqual([])
  })
})
