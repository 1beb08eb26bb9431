import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { api, startTestNode, stopAndRemove, tempDir } from './helpers/test-node.ts'

describe('restarting a node', () => {
  it('keeps its peer id, its API token and its stored alerts, and never reuses a sequence number', async () => {
    const dataDir = await tempDir()
    const first = await startTestNode({ dataDir })
    const peerId = first.peerId
    const token = first.apiToken.token
    expect(first.apiToken.created).toBe(true)
    const published = await api(first, '/api/defense/network/alert', {
      method: 'POST',
      json: { indicator: '2001:db8::1', scenario: 'ssh-bf' },
    })
    expect(published.status).toBe(201)
    await first.stop()

    const second = await startTestNode({ dataDir })
    try {
      expect(second.peerId).toBe(peerId)
      expect(second.apiToken).toMatchObject({ token, created: false })
      expect((await readFile(join(dataDir, 'api-token'), 'utf8')).trim()).toBe(token)
      const threats = await api(second, '/api/defense/network/threats')
      expect(threats.body.items).toHaveLength(1)
      expect(threats.body.items[0]).toMatchObject({
        id: published.body.id,
        indicator: '2001:db8::1',
        verified: true,
        reporter: peerId,
      })

      const again = await api(second, '/api/defense/network/alert', {
        method: 'POST',
        json: { indicator: '2001:db8::2', scenario: 'ssh-bf' },
      })
      expect(again.body.seq).toBeGreaterThan(published.body.seq)
    } finally {
      await stopAndRemove(second)
    }
  })

  it('refuses to start a second node on a data dir that is in use, without harming the first', async () => {
    const node = await startTestNode()
    try {
      await expect(startTestNode({ dataDir: node.config.dataDir })).rejects.toMatchObject({
        name: 'StoreOpenError',
      })
      expect((await api(node, '/api/defense/network/status')).status).toBe(200)
    } finally {
      await stopAndRemove(node)
    }
  })
})

describe('start-up failures an operator can fix', () => {
  it('names the API port that is taken, and leaves the store closed for the next try', async () => {
    const first = await startTestNode()
    const port = Number(new URL(first.apiUrl).port)
    const dataDir = await tempDir()
    try {
      await expect(
        startTestNode({ dataDir, cli: { api: { host: '127.0.0.1', port } } }),
      ).rejects.toMatchObject({
        name: 'ListenError',
        message: expect.stringContaining(`127.0.0.1:${port}`),
      })
      const retry = await startTestNode({ dataDir })
      await stopAndRemove(retry)
    } finally {
      await stopAndRemove(first)
    }
  })
})
