import { rm } from 'node:fs/promises'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { openStore, type Store } from '../store/open-store.ts'
import { tempDir } from '../../test/helpers/test-node.ts'
import { BouncerKeys, LAST_PULL_PERSIST_MS } from './bouncer-keys.ts'

describe('BouncerKeys', () => {
  let dir: string
  let store: Store
  beforeEach(async () => {
    dir = await tempDir('shieldwall-bouncer-keys-')
    store = await openStore(dir)
  })
  afterEach(async () => {
    await store.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('issues a random key per bouncer, stores only its hash and authenticates with it', async () => {
    const keys = new BouncerKeys(store, { clock: () => 1000 })
    await keys.open()
    const { bouncer, key } = await keys.add('fw-edge.1')
    expect(bouncer).toEqual({ name: 'fw-edge.1', createdAt: 1000 })
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const other = await keys.add('nginx')
    expect(other.key).not.toBe(key)
    expect(keys.authenticate(key)).toBe('fw-edge.1')
    expect(keys.authenticate(other.key)).toBe('nginx')
    expect(keys.authenticate(key + 'x')).toBeUndefined()
    expect(keys.authenticate('')).toBeUndefined()
    expect(keys.authenticate(undefined)).toBeUndefined()
    // the key is nowhere on disk
    for await (const [, raw] of store
      .sublevel<string, string>('bouncers', { valueEncoding: 'utf8' })
      .iterator()) {
      expect(raw).not.toContain(key)
      expect(raw).not.toContain(other.key)
    }
  })

  it('survives a reopen, lists without secrets and deletes (revoking at once)', async () => {
    const keys = new BouncerKeys(store)
    await keys.open()
    const { key } = await keys.add('b')
    await keys.add('a')
    const again = new BouncerKeys(store)
    await again.open()
    expect(again.list().map((b) => b.name)).toEqual(['a', 'b'])
    expect(JSON.stringify(again.list())).not.toContain('keyHash')
    expect(again.authenticate(key)).toBe('b')
    await again.delete('b')
    expect(again.authenticate(key)).toBeUndefined()
    await expect(again.delete('b')).rejects.toMatchObject({ name: 'UnknownBouncerError' })
    const third = new BouncerKeys(store)
    await third.open()
    expect(third.list().map((b) => b.name)).toEqual(['a'])
  })

  it('refuses duplicate and malformed names', async () => {
    const keys = new BouncerKeys(store)
    await keys.open()
    await keys.add('x')
    await expect(keys.add('x')).rejects.toMatchObject({ name: 'DuplicateBouncerError' })
    const both = await Promise.allSettled([keys.add('y'), keys.add('y')])
    expect(both.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected'])
    for (const bad of ['', 'a b', 'x'.repeat(65), 'semi;colon', 'ünï']) {
      await expect(keys.add(bad)).rejects.toMatchObject({ name: 'InvalidBouncerNameError' })
    }
  })

  it('keeps lastPull exact in memory and writes it at most once a minute, and on flush', async () => {
    let now = 10_000_000
    const keys = new BouncerKeys(store, { clock: () => now })
    await keys.open()
    await keys.add('p')
    keys.touch('p')
    now += 1000
    keys.touch('p')
    expect(keys.get('p')?.lastPull).toBe(now)
    const reread = async () => {
      const k = new BouncerKeys(store)
      await k.open()
      return k.get('p')?.lastPull
    }
    // touch writes in the background: wait for the write (late on a busy machine), not for a fixed time
    const stored = (want: number) =>
      vi.waitFor(async () => expect(await reread()).toBe(want), { timeout: 30_000, interval: 5 })
    await stored(now - 1000)
    now += LAST_PULL_PERSIST_MS
    keys.touch('p')
    await stored(now)
    now += 5
    keys.touch('p')
    await keys.flush()
    expect(await reread()).toBe(now)
  })
})
