import { generateKeyPair } from '@libp2p/crypto/keys'
import { rm } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateSecretKey } from '../../crypto/signing/ed25519.ts'
import { decodeEnvelope } from '../../protocol/envelope/envelope.ts'
import { putSignedAlert } from '../../test/helpers/stored-alerts.ts'
import { tempDir } from '../../test/helpers/test-node.ts'
import { AlertStore } from '../alerts/alert-store.ts'
import { silentLogger } from '../logging/logger.ts'
import { createHost, type ShieldwallHost } from '../p2p/create-host.ts'
import { openStore, type Store } from '../store/open-store.ts'
import { alertSync, catchUpBudget, type AlertSync } from './alert-sync.ts'

const NOW = 1_780_000_000_000
const ALERTS = 5
const secretKey = generateSecretKey()

describe('catch-up from a peer that rate-limits us', () => {
  const dirs: string[] = []
  const dbs: Store[] = []
  const hosts: ShieldwallHost[] = []
  let server: AlertSync
  let client: AlertSync
  let serverNow = NOW + 100
  const fetched: number[] = []

  async function member(name: string) {
    const dir = await tempDir()
    const db = await openStore(dir)
    const alertStore = new AlertStore(db)
    await alertStore.open()
    const host = await createHost({
      privateKey: await generateKeyPair('Ed25519'),
      listen: [`/memory/alert-sync-${name}-${process.pid}`],
      dht: { enabled: false, protocolPrefix: '/shieldwall' },
    })
    dirs.push(dir)
    dbs.push(db)
    hosts.push(host)
    return { alertStore, host }
  }

  beforeAll(async () => {
    const s = await member('server')
    for (let seq = 1; seq <= ALERTS; seq++)
      await putSignedAlert(s.alertStore, secretKey, seq, NOW + seq, NOW + 3_600_000)
    server = alertSync({ requestsPerPeerPerMinute: 3 })({
      libp2p: s.host,
      alertStore: s.alertStore,
      intake: async () => ({ action: 'ignore', reason: 'duplicate' }) as never,
      logger: silentLogger(),
      clock: () => serverNow,
    })
    const c = await member('client')
    client = alertSync({ pageLimit: 1 })({
      libp2p: c.host,
      alertStore: c.alertStore,
      intake: async (bytes) => {
        fetched.push(decodeEnvelope(bytes).seq)
        return { action: 'accept' } as never
      },
      // a member of full trust: its budget (200 one-alert pages) is not what stops this catch-up
      trustOf: () => 1,
      logger: silentLogger(),
    })
    await server.start()
    await client.start()
    await c.host.dial(s.host.getMultiaddrs()[0])
  })

  afterAll(async () => {
    await Promise.all(hosts.map((h) => h.stop()))
    await Promise.all(dbs.map((db) => db.close()))
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
  })

  it('stops at the refusal with a cursor, and resumes from it a minute later without fetching anything twice', async () => {
    const peer = hosts[0].peerId
    const first = await client.catchUp(peer, 0)
    expect(first).toMatchObject({ pages: 3, received: 3, complete: false, rateLimited: true })
    expect(first.cursor).toBeTypeOf('string')
    expect(fetched).toEqual([1, 2, 3])
    expect(server.counts.refused.rate_limited).toBe(1)

    serverNow += 60_001
    const second = await client.catchUp(peer, 0, { cursor: first.cursor })
    expect(second).toMatchObject({ complete: true, rateLimited: false, received: 2 })
    expect(second.cursor).toBeUndefined()
    expect(fetched).toEqual([1, 2, 3, 4, 5])
  })
})

describe('catchUpBudget', () => {
  const init = { maxPages: 200, minPages: 2, pageLimit: 500 }
  it('gives a stranger the minimum and a trusted member most of the pages', () => {
    expect(catchUpBudget(0.04, init)).toEqual({ pages: 2, alerts: 1000 })
    expect(catchUpBudget(0, init)).toEqual({ pages: 2, alerts: 1000 })
    expect(catchUpBudget(Number.NaN, init)).toEqual({ pages: 2, alerts: 1000 })
    expect(catchUpBudget(0.6, init)).toEqual({ pages: 72, alerts: 36_000 })
    expect(catchUpBudget(1, init)).toEqual({ pages: 200, alerts: 100_000 })
    expect(catchUpBudget(2, init)).toEqual({ pages: 200, alerts: 100_000 })
  })
})
