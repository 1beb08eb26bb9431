import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { rm } from 'node:fs/promises'
import { pino } from 'pino'
import { loadConfig } from '../../config/index.ts'
import { ShieldwallNode } from '../../node/shieldwall-node.ts'
import { api, tempDir } from '../../test/helpers/test-node.ts'

/**
 * `node bench/webhooks/failing-webhooks.ts [ADDS]`: one PUT of ADDS manual blocklist entries (default 10,000)
 * on a real node (loopback, level in a temp dir), first with no webhook, then with two webhooks whose
 * receivers answer 500 to everything. Prints the time of each PUT, the webhook warnings logged and the
 * deliveries dropped. Deliveries must stay off the path of adding entries, and a failing webhook must log a
 * summary per interval, not a line per delivery.
 */

const adds = Number(process.argv[2] ?? 10_000)

async function failingReceiver() {
  let requests = 0
  const server = createServer((req, res) => {
    requests++
    req.resume()
    req.on('end', () => res.writeHead(500).end())
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    server,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    requests: () => requests,
  }
}

async function run(webhooks: number): Promise<void> {
  let warnings = 0
  const logger = pino(
    { level: 'warn' },
    {
      write: (line: string) => {
        if (line.includes('"component":"webhooks"')) warnings++
      },
    },
  )
  const dataDir = await tempDir('shieldwall-bench-webhooks-')
  const config = loadConfig({
    env: {},
    cli: { dataDir, api: { host: '127.0.0.1', port: 0 }, p2p: { listen: ['/ip4/127.0.0.1/tcp/0'] } },
  })
  const node = new ShieldwallNode(config, { logger })
  await node.start()
  const receivers = []
  for (let i = 0; i < webhooks; i++) {
    const r = await failingReceiver()
    receivers.push(r)
    await node.webhooks.add({ url: r.url, events: ['decision.added'] })
  }
  const add = Array.from({ length: adds }, (_, i) => ({
    value: `45.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
  }))
  const started = performance.now()
  const res = await api(node, '/api/defense/network/blocklist', { method: 'PUT', json: { add } })
  const ms = performance.now() - started
  // a moment for what the PUT queued to start failing, so warnings and drops show
  await new Promise((r) => setTimeout(r, 2000))
  const stats = node.webhooks.queueStats()
  console.log(
    JSON.stringify({
      webhooks,
      adds,
      status: res.status,
      putMs: Math.round(ms),
      webhookWarnings: warnings,
      requestsToReceivers: receivers.reduce((n, r) => n + r.requests(), 0),
      dropped: node.webhooks.counts.dropped,
      queued: stats.map((s) => s.queued),
    }),
  )
  await node.stop()
  for (const r of receivers) r.server.close()
  await rm(dataDir, { recursive: true, force: true })
}

await run(0)
await run(2)
