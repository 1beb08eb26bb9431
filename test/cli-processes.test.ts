import { existsSync } from 'node:fs'
import { readFile, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { CLI, ROOT, run, startProcess, stopProcess, type RunningProcess } from './helpers/processes.ts'
import { tempDir, waitFor } from './helpers/test-node.ts'

async function call(p: RunningProcess, dataDir: string, path: string, init: RequestInit = {}) {
  const token = (await readFile(join(dataDir, 'api-token'), 'utf8')).trim()
  const res = await fetch(p.ready.api + path, {
    ...init,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  })
  return { status: res.status, body: (await res.json()) as any }
}

describe('two `shieldwall start` processes on loopback, as a new user would run them', () => {
  const started: RunningProcess[] = []
  const dirs: string[] = []
  afterAll(async () => {
    for (const p of started) await stopProcess(p, 'SIGKILL')
    for (const d of dirs) await rm(d, { recursive: true, force: true })
  })

  it('bootstraps B from A, carries an alert from A to B, and shuts both down cleanly', async () => {
    const dirA = await tempDir()
    const dirB = await tempDir()
    dirs.push(dirA, dirB)
    const common = ['--api', '127.0.0.1:0', '--listen', '/ip4/127.0.0.1/tcp/0', '--log-level', 'warn']
    const a = await startProcess(['--data-dir', dirA, '--name', 'node-a', ...common])
    started.push(a)
    expect(a.stderr()).toContain('API token (shown once')
    expect((await stat(join(dirA, 'api-token'))).mode & 0o777).toBe(0o600)
    expect((await stat(join(dirA, 'identity.key'))).mode & 0o777).toBe(0o600)

    const b = await startProcess([
      '--data-dir',
      dirB,
      '--name',
      'node-b',
      '--bootstrap',
      a.ready.addresses[0],
      ...common,
    ])
    started.push(b)
    await waitFor(
      async () => {
        const s = await call(b, dirB, '/api/defense/network/status')
        return (
          s.body.peers.some((p: any) => p.peerId === a.ready.peerId) &&
          s.body.topics.some((t: any) => t.subscribers > 0)
        )
      },
      30_000,
      'B to bootstrap to A',
    )
    await waitFor(
      async () =>
        (await call(a, dirA, '/api/defense/network/status')).body.topics.some((t: any) => t.subscribers > 0),
      30_000,
      'A to see B',
    )

    const published = await call(a, dirA, '/api/defense/network/alert', {
      method: 'POST',
      body: JSON.stringify({ indicator: '198.51.100.77', scenario: 'ssh-bf', severity: 'critical' }),
    })
    expect(published.status).toBe(201)
    const seen = await waitFor(
      async () => {
        const t = await call(b, dirB, '/api/defense/network/threats')
        return t.body.items.find((x: any) => x.id === published.body.id)
      },
      30_000,
      'the alert on B',
    )
    expect(seen).toMatchObject({ reporter: a.ready.peerId, verified: true, indicator: '198.51.100.77' })

    // `shieldwall status` through the bin shim, as an operator types it
    const status = await run(process.execPath, [
      join(ROOT, 'node', 'cli', 'shieldwall.js'),
      'status',
      '--data-dir',
      dirB,
    ])
    expect(status.code, status.stderr).toBe(0)
    expect(status.stdout).toContain(b.ready.peerId)

    // exit code 0 is the node's own word that it stopped gracefully: past its 10 s shutdown budget it exits 1
    for (const p of [b, a]) expect(await stopProcess(p)).toBe(0)
    expect(existsSync(join(dirA, 'api.json'))).toBe(false)
  }, 180_000)

  it('stops with a message naming the key, value and expectation for a bad config', async () => {
    const dir = await tempDir()
    dirs.push(dir)
    const r = await run(process.execPath, [CLI, 'start', '--data-dir', dir], { SHIELDWALL_API_PORT: 'http' })
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('api.port')
    expect(r.stderr).toContain('"http"')
    expect(r.stderr).toContain('SHIELDWALL_API_PORT')
    expect(r.stderr).not.toContain('    at ')
  })

  // The start-up time is printed, not bounded: a busy machine would fail a bound.
  it('`npm start` with no arguments answers /healthz using a data dir it creates', async () => {
    const home = await tempDir()
    dirs.push(home)
    const t0 = Date.now()
    const p = await startProcess([], { XDG_DATA_HOME: home }, ['npm', 'start', '--silent'])
    started.push(p)
    const health = await fetch(p.ready.api + '/healthz')
    expect(health.status).toBe(200)
    console.log(`npm start answered /healthz ${Date.now() - t0} ms after it was spawned`)
    expect(p.ready.api).toBe('http://127.0.0.1:7420')
    const dataDir = join(home, 'shieldwall')
    expect(existsSync(join(dataDir, 'identity.key'))).toBe(true)
    expect(existsSync(join(dataDir, 'api.json'))).toBe(true)
    // npm re-raises the signal after its child exits, so judge the node by its graceful shutdown instead.
    await stopProcess(p)
    await waitFor(
      () => !existsSync(join(dataDir, 'api.json')),
      30_000,
      'the node to remove api.json on shutdown',
    )
    await expect(fetch(p.ready.api + '/healthz')).rejects.toThrow()
  }, 120_000)
})
