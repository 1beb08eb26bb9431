import { request, type ClientRequest, type IncomingMessage } from 'node:http'
import { loadConfig } from '../../config/index.ts'
import { silentLogger } from '../../node/logging/logger.ts'
import { ShieldwallNode } from '../../node/shieldwall-node.ts'
import { writeSyntheticStore } from '../../bench/decisions/synthetic-blocklist.ts'
import { tempDir } from './test-node.ts'

/** A response whose body is never read. */
export interface Idle {
  req: ClientRequest
  res: IncomingMessage
}

/** Opens a stream and never reads its body (no 'data' listener: the socket stops reading once it is full). */
export function openIdle(base: string, path: string, token: string): Promise<Idle> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { headers: { authorization: `Bearer ${token}` }, agent: false })
    req.once('response', (res) => resolve({ req, res }))
    req.once('error', reject)
    req.end()
  })
}

export async function readText(res: IncomingMessage): Promise<string> {
  let text = ''
  res.setEncoding('utf8')
  for await (const chunk of res) text += chunk
  return text
}

export async function readJson(res: IncomingMessage): Promise<any> {
  return JSON.parse(await readText(res))
}

/**
 * A real node on 127.0.0.1 whose store holds `entries` synthetic blocklist entries
 * (bench/decisions/synthetic-blocklist.ts, expiring an hour or more from now), with `api.streams` as given.
 * `clock` is the node's clock: a test moves it past `stallSeconds` to have the gate's sweep find stalls.
 */
export async function startLargeListNode(options: {
  entries: number
  streams: Record<string, number>
  clock?: () => number
  prefix?: string
}): Promise<ShieldwallNode> {
  const dataDir = await tempDir(options.prefix ?? 'shieldwall-streams-')
  await writeSyntheticStore(dataDir, options.entries, 0)
  const config = loadConfig({
    env: {},
    cli: {
      dataDir,
      api: { host: '127.0.0.1', port: 0, streams: options.streams },
      p2p: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      log: { level: 'silent' },
    },
  })
  const node = new ShieldwallNode(config, {
    logger: silentLogger(),
    ...(options.clock !== undefined ? { clock: options.clock } : {}),
  })
  await node.start()
  return node
}
