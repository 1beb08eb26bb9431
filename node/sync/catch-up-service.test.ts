import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PeerId } from '@libp2p/interface'
import { rm } from 'node:fs/promises'
import { afterAll, describe, expect, it } from 'vitest'
import { ALERTS_SYNC_PROTOCOL } from '../../protocol/messages/sync-page.ts'
import { tempDir, waitFor } from '../../test/helpers/test-node.ts'
import { silentLogger } from '../logging/logger.ts'
import { createHost, type ShieldwallHost } from '../p2p/create-host.ts'
import { openStore, type Store } from '../store/open-store.ts'
import type { CatchUpResult } from './alert-sync.ts'
import { catchUpService } from './catch-up-service.ts'
import { SyncWatermark } from './sync-watermark.ts'

describe('CatchUpService and a peer that rate-limits it', () => {
  const hosts: ShieldwallHost[] = []
  const dbs: Store[] = []
  const dirs: string[] = []

  afterAll(async () => {
    await Promise.all(hosts.map((h) => h.stop()))
    for (const db of dbs) await db.close()
    for (const dir of dirs) await rm(dir, { recursive: true, force: true })
  })

  // a refusal for asking too often, or the end of the budget the peer's trust allows one catch-up
  it.each(['rateLimited', 'budgetSpent'] as const)(
    'resumes from the cursor where it stopped (%s), and raises the watermark to when it first asked',
    async (stop) => {
      const host = async (name: string) => {
        const h = await createHost({
          privateKey: await generateKeyPair('Ed25519'),
          listen: [`/memory/catch-up-${name}-${stop}-${process.pid}`],
          dht: { enabled: false, protocolPrefix: '/shieldwall' },
        })
        hosts.push(h)
        return h
      }
      const client = await host('client')
      const server = await host('server')
      // the server only needs to announce the protocol: the scripted sync below stands in for its pages
      await server.handle(ALERTS_SYNC_PROTOCOL, (stream) => stream.abort(new Error('not used')))
      const dir = await tempDir()
      const db = await openStore(dir)
      dirs.push(dir)
      dbs.push(db)
      const watermark = new SyncWatermark(db)
      await watermark.open()

      let now = 1_780_000_000_000
      const calls: { cursor?: string; at: number }[] = []
      const answers: Pick<CatchUpResult, 'complete' | 'cursor' | 'rateLimited' | 'budgetSpent'>[] = [
        {
          rateLimited: stop === 'rateLimited',
          budgetSpent: stop === 'budgetSpent',
          complete: false,
          cursor: 'after-page-3',
        },
        { rateLimited: false, budgetSpent: false, complete: true },
      ]
      const sync = {
        async catchUp(
          peer: PeerId,
          _since: number,
          options: { cursor?: string } = {},
        ): Promise<CatchUpResult> {
          calls.push({ cursor: options.cursor, at: now })
          now += 60_000 // each attempt, and the wait before the retry, takes the clock on
          return {
            peer: peer.toString(),
            pages: 1,
            received: 0,
            accepted: 0,
            rejected: {},
            ignored: {},
            ...answers[calls.length - 1],
          }
        },
      }
      const service = catchUpService({ retryDelayMs: 50, peersPerRound: 1, providerSearchDelayMs: 60_000 })({
        libp2p: client,
        sync,
        watermark,
        logger: silentLogger(),
        clock: () => now,
      })
      const firstAsked = now
      service.start()
      try {
        await client.dial(server.getMultiaddrs()[0])
        await waitFor(() => calls.length === 2 && !service.catchingUp, 5000, 'the resumed catch-up to finish')
        expect(calls.map((c) => c.cursor)).toEqual([undefined, 'after-page-3'])
        // everything the peer held when we first asked is below the cursor or on the pages fetched after it
        expect(watermark.value).toBe(firstAsked)
      } finally {
        await service.stop()
      }
    },
  )
})
