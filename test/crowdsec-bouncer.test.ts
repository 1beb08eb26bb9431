import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { chmod, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ShieldwallNode } from '../node/shieldwall-node.ts'
import { CLI, run } from './helpers/processes.ts'
import { startTestNode, stopAndRemove, tempDir, waitFor } from './helpers/test-node.ts'

/** Debian's package; CI installs it with .ci/install-test-deps.sh (../shared/tools/install-crowdsec-offline.sh). */
const BOUNCER = process.env.CROWDSEC_CUSTOM_BOUNCER ?? '/usr/bin/crowdsec-custom-bouncer'
const present = existsSync(BOUNCER)
if (!present) {
  console.warn(
    `skipping the CrowdSec bouncer test: ${BOUNCER} is not installed (run .ci/install-test-deps.sh as root)`,
  )
}

interface Call {
  action: string
  value: string
  seconds: number
  reason: string
  decision: Record<string, unknown>
}

/**
 * CrowdSec's own custom bouncer (Go, go-cs-bouncer stream client) against a real node: it must see our
 * decisions exactly as it sees LAPI's. It calls its script as `SCRIPT add|del VALUE SECONDS SCENARIO JSON`.
 */
describe.skipIf(!present)('crowdsec-custom-bouncer against a shieldwall node', () => {
  let node: ShieldwallNode
  let work: string
  let bouncer: ChildProcess
  let output = ''
  const callsFile = () => join(work, 'calls.tsv')

  async function calls(): Promise<Call[]> {
    let text = ''
    try {
      text = await readFile(callsFile(), 'utf8')
    } catch {
      return []
    }
    return text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => {
        const [action, value, seconds, reason, json] = line.split('\t')
        return { action, value, seconds: Number(seconds), reason, decision: JSON.parse(json) }
      })
  }

  const waitForCall = async (action: string, value: string): Promise<Call> =>
    (await waitFor(
      async () => (await calls()).find((c) => c.action === action && c.value === value),
      10_000,
      `the bouncer to run "${action} ${value}"`,
    )) as Call

  beforeAll(async () => {
    node = await startTestNode()
    work = await tempDir('shieldwall-crowdsec-')

    // The key comes from the operator's command, through the running node's admin API.
    const added = await run(process.execPath, [
      CLI,
      'bouncer',
      'add',
      'custom-e2e',
      '--data-dir',
      node.config.dataDir,
      '--json',
    ])
    expect(added.code, added.stderr).toBe(0)
    const { key } = JSON.parse(added.stdout) as { key: string }

    const script = join(work, 'record.sh')
    await writeFile(
      script,
      `#!/bin/sh\n# one line per call, arguments separated by tabs\nprintf '%s\\t' "$@" | sed 's/\\t$//' >> '${callsFile()}'\necho >> '${callsFile()}'\n`,
    )
    await chmod(script, 0o755)
    const config = join(work, 'crowdsec-custom-bouncer.yaml')
    await writeFile(
      config,
      [
        `bin_path: ${script}`,
        'feed_via_stdin: false',
        'update_frequency: 1s',
        'cache_retention_duration: 1s',
        'daemonize: false',
        'log_mode: file',
        `log_dir: ${work}`,
        'log_level: debug',
        `piddir: ${work}`,
        `api_url: ${node.apiUrl}/`,
        `api_key: ${key}`,
        'prometheus:',
        '  enabled: false',
        '',
      ].join('\n'),
    )
    bouncer = spawn(BOUNCER, ['-c', config], { stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    bouncer.stdout?.on('data', (d) => (output += d))
    bouncer.stderr?.on('data', (d) => (output += d))
    // It is up once it has made its startup pull.
    await waitFor(
      () => node.bouncers.keys.get('custom-e2e')?.lastPull !== undefined || bouncer.exitCode !== null,
      10_000,
      'the bouncer to pull',
    )
    expect(bouncer.exitCode, output).toBeNull()
  })

  afterAll(async () => {
    if (bouncer?.pid !== undefined && bouncer.exitCode === null && bouncer.signalCode === null) {
      const exited = new Promise((resolve) => bouncer.once('exit', resolve))
      process.kill(-bouncer.pid, 'SIGTERM')
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))])
      if (bouncer.exitCode === null && bouncer.signalCode === null) process.kill(-bouncer.pid, 'SIGKILL')
    }
    if (node !== undefined) await stopAndRemove(node)
    if (work !== undefined) await rm(work, { recursive: true, force: true })
  })

  it('adds an address the node blocks and deletes it when the block is lifted', async () => {
    await node.blocklist.add('198.51.100.77', { durationSeconds: 3600, scenario: 'ssh-bf' })
    const add = await waitForCall('add', '198.51.100.77')
    expect(add.seconds).toBeGreaterThan(3590)
    expect(add.seconds).toBeLessThanOrEqual(3600)
    expect(add.reason).toBe('shieldwall/ssh-bf')
    expect(add.decision).toMatchObject({ value: '198.51.100.77', scope: 'Ip', type: 'ban', origin: 'cscli' })

    await node.blocklist.remove('198.51.100.77')
    const del = await waitForCall('del', '198.51.100.77')
    expect(del.reason).toBe('shieldwall/ssh-bf')
    expect(del.decision).toMatchObject({ value: '198.51.100.77', scope: 'Ip' })
  })

  it('passes ranges, IPv6 and blocks that never expire through', async () => {
    await node.blocklist.add('203.0.113.0/24', { durationSeconds: 600, scenario: 'http-crawl' })
    await node.blocklist.add('2001:db8:77::/48')
    const range = await waitForCall('add', '203.0.113.0/24')
    expect(range.decision).toMatchObject({ scope: 'Range' })
    const forever = await waitForCall('add', '2001:db8:77::/48')
    // 2^63-1 ns: Go's longest duration, which the bouncer parses
    expect(forever.seconds).toBe(9_223_372_036)
    expect(bouncer.exitCode, output).toBeNull()
  })

  it('logged no errors talking to the node', async () => {
    const log = await readFile(join(work, 'crowdsec-custom-bouncer.log'), 'utf8')
    expect(log).toContain('Processing new and deleted decisions')
    expect(log).not.toMatch(/level=(error|fatal)/)
  })
})
