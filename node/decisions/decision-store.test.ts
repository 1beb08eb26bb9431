import { rm } from 'node:fs/promises'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { tempDir } from '../../test/helpers/test-node.ts'
import type { Decision } from '../detect/ensemble.ts'
import { openStore, type Store } from '../store/open-store.ts'
import { DecisionStore, type StoredDecision } from './decision-store.ts'

const decision = (ip: string, decidedAt = 1_000_000): Decision => ({
  ip,
  scenario: 'ssh-bf',
  severity: 'high',
  confidence: 0.95,
  events: 6,
  first: decidedAt - 5000,
  last: decidedAt,
  reasons: ['6 failed ssh logins'],
  detectors: ['scenario'],
  decidedAt,
  durationSeconds: 3600,
  expiresAt: decidedAt + 3_600_000,
  offence: 1,
})

async function pendingOf(store: DecisionStore): Promise<string[]> {
  const out: StoredDecision[] = []
  for await (const d of store.pending()) out.push(d)
  return out.map((d) => d.ip)
}

describe('DecisionStore', () => {
  let dir: string
  let db: Store
  beforeEach(async () => {
    dir = await tempDir()
    db = await openStore(dir)
  })
  afterEach(async () => {
    await db.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('writes decisions, their pending marks and the caller’s writes in one batch; links alerts; settles', async () => {
    const store = new DecisionStore(db)
    await store.open()
    const side = db.sublevel<string, string>('ingest-offsets', { valueEncoding: 'utf8' })
    const stored = await store.putAll([decision('192.0.2.1'), decision('192.0.2.2')], 'local', {
      pending: true,
      also: [{ type: 'put', sublevel: side, key: '/var/log/auth.log', value: '{"offset":42}' }],
    })
    expect(store.count).toBe(2)
    expect(await side.get('/var/log/auth.log')).toBe('{"offset":42}')
    expect((await pendingOf(store)).sort()).toEqual(['192.0.2.1', '192.0.2.2'])

    stored[0]!.alertId = 'a1'
    stored[1]!.alertId = 'a2'
    // linked is not finished: the listeners (the local block) may still be writing
    await store.finish([stored[0]!], [])
    expect(await store.latestFor('192.0.2.1')).toMatchObject({ alertId: 'a1', offences: 1 })
    expect((await pendingOf(store)).sort()).toEqual(['192.0.2.1', '192.0.2.2'])
    await store.finish([stored[1]!], [stored[0]!])
    expect(await store.latestFor('192.0.2.2')).toMatchObject({ alertId: 'a2' })
    expect(await pendingOf(store)).toEqual(['192.0.2.2'])
    await store.finish([], [stored[1]!])
    expect(await pendingOf(store)).toEqual([])

    // the marks outlive the process: a new store over the same data sees them
    await store.putAll([decision('192.0.2.3')], 'local', { pending: true })
    const reopened = new DecisionStore(db)
    await reopened.open()
    expect(reopened.count).toBe(3)
    expect(await pendingOf(reopened)).toEqual(['192.0.2.3'])
  })

  it('writes nothing when any write of the batch is refused', async () => {
    const store = new DecisionStore(db)
    await store.open()
    const side = db.sublevel<string, string>('ingest-offsets', { valueEncoding: 'utf8' })
    await expect(
      store.putAll([decision('192.0.2.1')], 'local', {
        pending: true,
        also: [{ type: 'put', sublevel: side, key: 'x', value: undefined as unknown as string }],
      }),
    ).rejects.toThrow()
    expect(store.count).toBe(0)
    expect((await store.list({ limit: 10 })).items).toEqual([])
    expect(await pendingOf(store)).toEqual([])
  })
})
