import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { startTestNode, stopAndRemove, tempDir } from '../../test/helpers/test-node.ts'
import { bouncerCommand } from './bouncer-command.ts'

function capture() {
  let text = ''
  const out = new Writable({
    write(chunk, _enc, done) {
      text += chunk
      done()
    },
  })
  return { out, text: () => text }
}

async function run(args: string[]) {
  const c = capture()
  await bouncerCommand(args, c.out)
  return c.text()
}

describe('shieldwall bouncer', () => {
  const dirs: string[] = []
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true })
  })

  it('works on the store when no node is running (and past a stale api.json)', async () => {
    const dir = await tempDir('shieldwall-bouncer-cli-')
    dirs.push(dir)
    await writeFile(join(dir, 'api.json'), JSON.stringify({ url: 'http://127.0.0.1:9', pid: 1, peerId: 'x' }))
    await writeFile(join(dir, 'api-token'), 'sw_stale\n', { mode: 0o600 })
    const added = JSON.parse(await run(['add', 'edge-fw', '--data-dir', dir, '--json']))
    expect(added.name).toBe('edge-fw')
    expect(added.key).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(await run(['list', '--data-dir', dir])).toMatch(
      /^NAME +CREATED +LAST PULL\nedge-fw +\d{4}-.* never\n$/,
    )
    await expect(run(['add', 'edge-fw', '--data-dir', dir])).rejects.toMatchObject({
      name: 'DuplicateBouncerError',
    })
    expect(await run(['delete', 'edge-fw', '--data-dir', dir])).toContain('deleted')
    expect(JSON.parse(await run(['list', '--data-dir', dir, '--json']))).toEqual([])
    await expect(run(['delete', 'edge-fw', '--data-dir', dir])).rejects.toMatchObject({
      name: 'UnknownBouncerError',
    })
  })

  it('goes through the running node (which holds the store lock), with the same errors', async () => {
    const node = await startTestNode()
    try {
      const dir = node.config.dataDir
      const text = await run(['add', 'nginx', '--data-dir', dir])
      const key = /\n\n {2}(\S+)\n\n$/.exec(text)?.[1] as string
      expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/)
      // the node knows the key at once
      const res = await fetch(`${node.apiUrl}/v1/decisions?ip=192.0.2.1`, { headers: { 'x-api-key': key } })
      expect(res.status).toBe(200)
      const listed = JSON.parse(await run(['list', '--data-dir', dir, '--json']))
      expect(listed.map((b: { name: string }) => b.name)).toEqual(['nginx'])
      expect(listed[0].lastPull).toMatch(/^\d{4}-/)
      await expect(run(['add', 'nginx', '--data-dir', dir])).rejects.toMatchObject({
        name: 'DuplicateBouncerError',
      })
      await expect(run(['add', 'bad name', '--data-dir', dir])).rejects.toMatchObject({
        name: 'InvalidBouncerNameError',
      })
      await run(['delete', 'nginx', '--data-dir', dir])
      await expect(run(['delete', 'nginx', '--data-dir', dir])).rejects.toMatchObject({
        name: 'UnknownBouncerError',
      })
    } finally {
      await stopAndRemove(node)
    }
  })

  it('explains its usage', async () => {
    expect(await run([])).toContain('bouncer add NAME')
    await expect(run(['frobnicate'])).rejects.toMatchObject({ name: 'BouncerCommandError' })
    await expect(run(['add'])).rejects.toMatchObject({ name: 'BouncerCommandError' })
    await expect(run(['list', 'extra'])).rejects.toMatchObject({ name: 'BouncerCommandError' })
  })
})
