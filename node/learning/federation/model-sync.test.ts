import { generateKeyPair } from '@libp2p/crypto/keys'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createHost, type ShieldwallHost } from '../../p2p/create-host.ts'
import { fetchModel, ModelSyncError, serveModelSync, type ModelSyncResponse } from './model-sync.ts'

const MODEL: ModelSyncResponse = {
  modelHash: 'a'.repeat(64),
  parentHash: null,
  round: 3,
  schema: 'window-v1',
  shapes: [[2, 2]],
  data: new Uint8Array(16),
}

describe('model sync between two real hosts', () => {
  let server: ShieldwallHost
  let client: ShieldwallHost
  let now = 0
  let answered = 0

  beforeAll(async () => {
    const host = async (listen: string) =>
      createHost({
        privateKey: await generateKeyPair('Ed25519'),
        listen: [listen],
        dht: { enabled: false, protocolPrefix: '/shieldwall' },
      })
    server = await host(`/memory/model-sync-server-${process.pid}`)
    client = await host(`/memory/model-sync-client-${process.pid}`)
    await serveModelSync(
      server,
      async (_peer, request) => {
        answered++
        return request.modelHash === undefined || request.modelHash === MODEL.modelHash
          ? MODEL
          : { error: 'not_found', message: 'no such model' }
      },
      { timeoutMs: 5000, requestsPerPeerPerMinute: 3, clock: () => now },
    )
    await client.dial(server.getMultiaddrs()[0])
  })

  afterAll(async () => {
    await client.stop()
    await server.stop()
  })

  it('fetches the current model, and refuses a peer past its requests a minute without reading the model', async () => {
    const fetched = await fetchModel(client, server.peerId, {}, 5000)
    expect(fetched.modelHash).toBe(MODEL.modelHash)
    expect(fetched.shapes).toEqual([[2, 2]])
    await expect(fetchModel(client, server.peerId, { modelHash: 'b'.repeat(64) }, 5000)).rejects.toThrow(
      /not_found/,
    )
    await fetchModel(client, server.peerId, {}, 5000)
    expect(answered).toBe(3)

    const refused = fetchModel(client, server.peerId, {}, 5000)
    await expect(refused).rejects.toBeInstanceOf(ModelSyncError)
    await expect(refused).rejects.toThrow(/rate_limited/)
    expect(answered).toBe(3)

    // a minute later the peer is served again
    now += 60_001
    expect((await fetchModel(client, server.peerId, {}, 5000)).round).toBe(3)
    expect(answered).toBe(4)
  })
})
