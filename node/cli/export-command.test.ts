import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { runExport } from './export-command.ts'
import { openStore } from '../store/open-store.ts'
import { blocklist } from '../blocklist/blocklist.ts'

// `shieldwall export` (node/cli/export-command.ts); kept here beside the blocklist it exports.

let dir: string
let out: string[]
let err: string[]
let server: Server | undefined
const io = () => ({ stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t), env: {} })

async function seed(): Promise<void> {
  const store = await openStore(dir)
  const list = blocklist()({ store })
  await list.open()
  await list.add('203.0.113.7')
  await list.add('2001:db8::/32', { durationSeconds: 3600 })
  await list.add('198.51.100.1', { durationSeconds: 1 })
  await list.stop()
  await store.close()
}

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  server = createServer(handler)
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shieldwall-export-'))
  out = []
  err = []
})

afterEach(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)))
  server = undefined
  await rm(dir, { recursive: true, force: true })
})

describe('shieldwall export', () => {
  it('reads the store of a stopped node', async () => {
    await seed()
    await runExport(['--format', 'plain', '--data-dir', dir], { ...io(), clock: () => Date.now() + 5000 })
    expect(out.join('')).toBe('203.0.113.7\n2001:db8::/32\n')
    const file = join(dir, 'blocklist.nft')
    await runExport(['--format', 'nft', '--data-dir', dir, '--output', file, '--timeouts'], io())
    expect(await readFile(file, 'utf8')).toMatch(
      /add element inet shieldwall shieldwall_v6 \{ 2001:db8::\/32 timeout 3\d{3}s \}/,
    )
    expect(err.join('')).toContain(`to ${file}`)
  })

  it('does not follow a symlink planted at the old predictable temp name', async () => {
    await seed()
    const victim = join(dir, 'victim')
    await writeFile(victim, 'precious\n', { mode: 0o600 })
    const file = join(dir, 'blocklist.txt')
    await symlink(victim, `${file}.${process.pid}.tmp`)
    await runExport(['--format', 'plain', '--data-dir', dir, '--output', file], {
      ...io(),
      clock: () => Date.now() + 5000,
    })
    expect(await readFile(victim, 'utf8')).toBe('precious\n')
    expect((await stat(victim)).mode & 0o777).toBe(0o600)
    expect(await readFile(file, 'utf8')).toBe('203.0.113.7\n2001:db8::/32\n')
  })

  it('asks the running node through its API, with the token', async () => {
    let asked = ''
    const url = await serve((req, res) => {
      asked = `${req.headers.authorization} ${req.url}`
      res.writeHead(200, { 'content-type': 'text/plain' }).end('deny 203.0.113.7;\n')
    })
    await writeFile(join(dir, 'api.json'), JSON.stringify({ url, pid: process.pid, peerId: 'x' }))
    await writeFile(join(dir, 'api-token'), 'sw_secret\n', { mode: 0o600 })
    await runExport(['--format', 'nginx', '--data-dir', dir, '--name', 'edge'], io())
    expect(out.join('')).toBe('deny 203.0.113.7;\n')
    expect(asked).toBe('Bearer sw_secret /api/defense/network/blocklist?format=nginx&name=edge')
  })

  it('falls back to the store when api.json is left behind by a node that is gone', async () => {
    await seed()
    const url = await serve((_, res) => res.end())
    await new Promise((resolve) => server!.close(resolve))
    server = undefined
    await writeFile(join(dir, 'api.json'), JSON.stringify({ url, pid: 1, peerId: 'x' }))
    await writeFile(join(dir, 'api-token'), 'sw_secret\n', { mode: 0o600 })
    await runExport(['--format', 'plain', '--data-dir', dir], { ...io(), clock: () => Date.now() + 5000 })
    expect(out.join('')).toBe('203.0.113.7\n2001:db8::/32\n')
  })

  it('says clearly what is wrong', async () => {
    await expect(runExport(['--format', 'pf', '--data-dir', dir], io())).rejects.toMatchObject({
      name: 'UsageError',
    })
    await expect(runExport(['--format', 'plain', '--data-dir', dir], io())).rejects.toMatchObject({
      name: 'UsageError',
      message: expect.stringContaining('no running node and no store'),
    })
    await expect(
      runExport(['--format', 'nft', '--data-dir', dir, '--name', 'Foo'], io()),
    ).rejects.toMatchObject({ name: 'UsageError', message: expect.stringContaining('--name "Foo"') })
    const url = await serve((_, res) => res.writeHead(404).end('not found'))
    await writeFile(join(dir, 'api.json'), JSON.stringify({ url, pid: process.pid, peerId: 'x' }))
    await writeFile(join(dir, 'api-token'), 'sw_secret\n', { mode: 0o600 })
    await expect(runExport(['--format', 'plain', '--data-dir', dir], io())).rejects.toMatchObject({
      name: 'ExportError',
      message: expect.stringContaining('answered 404'),
    })
  })
})
