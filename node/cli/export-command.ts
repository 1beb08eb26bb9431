import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { loadConfig } from '../../config/index.ts'
import { TOKEN_FILE } from '../api/api-token.ts'
import { readStoredEntries } from '../blocklist/blocklist.ts'
import {
  EXPORT_FORMATS,
  EXPORT_NAME_RULE,
  exportBlocklist,
  isExportName,
  type ExportFormat,
} from '../blocklist/exporters.ts'
import type { ApiEndpointFile } from '../shieldwall-node.ts'
import { openStore } from '../store/open-store.ts'
import { UsageError } from './usage-error.ts'
import { writeFileAtomic } from './write-file-atomic.ts'

export const EXPORT_USAGE = `usage:
  shieldwall export --format nft|ipset|nginx|plain [--output FILE] [--timeouts] [--name NAME]
                    [--config FILE] [--data-dir DIR]
      the blocklist as an nftables script (nft -f), an ipset restore file, an nginx include or a plain list;
      asks the running node, or reads the data dir's store when the node is stopped
`

/** The running node answered, but not with a blocklist. */
export class ExportError extends Error {
  override name = 'ExportError'
}

export interface ExportIo {
  stdout: (text: string) => void
  stderr: (text: string) => void
  env: Record<string, string | undefined>
  clock?: () => number
}

/** What the node's API is asked for; the route answers with the exported file as text/plain. */
export function blocklistExportUrl(
  apiUrl: string,
  format: ExportFormat,
  timeouts: boolean,
  name?: string,
): string {
  const query = new URLSearchParams({ format })
  if (timeouts) query.set('timeouts', '1')
  if (name !== undefined) query.set('name', name)
  return `${apiUrl}/api/defense/network/blocklist?${query}`
}

/** The export from the running node, or undefined when no node is running for this data dir. */
async function fromRunningNode(
  dataDir: string,
  configuredToken: string | undefined,
  url: (apiUrl: string) => string,
): Promise<string | undefined> {
  let endpoint: ApiEndpointFile
  try {
    endpoint = JSON.parse(await readFile(join(dataDir, 'api.json'), 'utf8'))
  } catch {
    return undefined
  }
  const token = configuredToken ?? (await readFile(join(dataDir, TOKEN_FILE), 'utf8')).trim()
  let res: Response
  try {
    res = await fetch(url(endpoint.url), {
      headers: { authorization: `Bearer ${token}`, accept: 'text/plain' },
      signal: AbortSignal.timeout(30_000),
    })
  } catch (err) {
    // api.json left behind by a node that died: nobody listens, so the store is free to read
    const code = (err as { cause?: { code?: string } }).cause?.code
    if (code === 'ECONNREFUSED') return undefined
    throw new ExportError(`cannot reach the node at ${endpoint.url}: ${(err as Error).message}`)
  }
  const body = await res.text()
  if (!res.ok)
    throw new ExportError(`the node at ${endpoint.url} answered ${res.status}: ${body.slice(0, 200)}`)
  return body
}

/**
 * `shieldwall export`: the blocklist in a firewall's or web server's format, to stdout or atomically to
 * `--output` (written beside it under an unpredictable name, then renamed, so a reload never reads half a file
 * and a symlink planted beside it is never followed).
 */
export async function runExport(args: string[], io: ExportIo): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      format: { type: 'string' },
      output: { type: 'string', short: 'o' },
      timeouts: { type: 'boolean' },
      name: { type: 'string' },
      config: { type: 'string' },
      'data-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) return io.stdout(EXPORT_USAGE)
  const format = values.format as ExportFormat | undefined
  if (format === undefined || !EXPORT_FORMATS.includes(format)) {
    throw new UsageError(`export: --format must be one of ${EXPORT_FORMATS.join(', ')}\n\n${EXPORT_USAGE}`)
  }
  if (values.name !== undefined && !isExportName(values.name)) {
    throw new UsageError(
      `export: --name ${JSON.stringify(values.name)}: ${EXPORT_NAME_RULE}\n\n${EXPORT_USAGE}`,
    )
  }
  const config = loadConfig({
    file: values.config,
    env: io.env,
    cli: values['data-dir'] !== undefined ? { dataDir: values['data-dir'] } : {},
  })
  const timeouts = values.timeouts === true
  const now = (io.clock ?? Date.now)()

  let source = 'the running node'
  let text = await fromRunningNode(config.dataDir, config.api.token, (apiUrl) =>
    blocklistExportUrl(apiUrl, format, timeouts, values.name),
  )
  if (text === undefined) {
    const db = join(config.dataDir, 'db')
    if (!existsSync(db)) throw new UsageError(`export: no running node and no store at ${db}`)
    source = db
    const store = await openStore(config.dataDir)
    try {
      const entries = await readStoredEntries(store, now)
      // the pieces the API writes as its client reads (exportChunks), joined: a file is written whole anyway
      text = exportBlocklist(format, entries, {
        now,
        timeouts,
        ...(values.name ? { name: values.name } : {}),
      })
    } finally {
      await store.close()
    }
  }

  if (values.output === undefined) return io.stdout(text)
  await writeFileAtomic(values.output, text, { mode: 0o644 })
  io.stderr(`exported the blocklist (${format}) from ${source} to ${values.output}\n`)
}
