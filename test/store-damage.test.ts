import { readdir, readFile, rm, stat, truncate } from 'node:fs/promises'
import { join } from 'node:path'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../config/index.ts'
import { ShieldwallNode } from '../node/shieldwall-node.ts'
import { tempDir } from './helpers/test-node.ts'

// A LevelDB log cut short opens without an error and without what was after the cut. The node compares the
// blocklist it opened with what its last clean stop left and says so.

let dataDir: string | undefined
afterEach(async () => {
  if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true })
  dataDir = undefined
})

function nodeWithLog(dir: string): { node: ShieldwallNode; errors: () => Array<Record<string, unknown>> } {
  const lines: string[] = []
  const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) })
  const config = loadConfig({
    env: {},
    cli: { dataDir: dir, api: { host: '127.0.0.1', port: 0 }, p2p: { listen: ['/ip4/127.0.0.1/tcp/0'] } },
  })
  const node = new ShieldwallNode(config, { logger })
  const errors = () =>
    lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => (l.level as number) >= 50)
  return { node, errors }
}

describe('a damaged store', () => {
  it('is reported when the blocklist opens with fewer entries than the last clean stop left', async () => {
    dataDir = await tempDir('shieldwall-damage-')
    const first = nodeWithLog(dataDir)
    await first.node.start()
    for (let i = 0; i < 300; i++) await first.node.blocklist.add(`198.18.${i >> 8}.${i & 255}`)
    expect(first.node.blocklist.size).toBe(300)
    await first.node.stop()

    // a clean restart says nothing
    const clean = nodeWithLog(dataDir)
    await clean.node.start()
    expect(clean.node.blocklist.size).toBe(300)
    // (opening moved those into a table file; these go to the new log)
    for (let i = 0; i < 300; i++) await clean.node.blocklist.add(`198.19.${i >> 8}.${i & 255}`)
    await clean.node.stop()
    expect(clean.errors().filter((e) => String(e.msg).includes('lost data'))).toEqual([])

    // cut every write-ahead log in half, as a full disk or a bad copy would
    const db = join(dataDir, 'db')
    for (const name of await readdir(db)) {
      if (!name.endsWith('.log')) continue
      const { size } = await stat(join(db, name))
      await truncate(join(db, name), Math.floor(size / 2))
    }
    const damaged = nodeWithLog(dataDir)
    await damaged.node.start()
    const size = damaged.node.blocklist.size
    expect(size).toBeLessThan(600)
    const reports = damaged.errors().filter((e) => String(e.msg).includes('lost data'))
    expect(reports).toHaveLength(1)
    expect(reports[0]).toMatchObject({ blocklistEntries: size, expectedAtLeast: 600, store: db })
    await damaged.node.stop()
    // nothing was deleted: the record of the stop is rewritten from what is there now
    expect(JSON.parse(await readFile(join(dataDir, 'store-check.json'), 'utf8')).blocklist.total).toBe(size)
  })
})
