import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { loadConfig, SOURCE_FORMATS, type ShieldwallConfig } from '../../config/index.ts'
import { createDetectionEngine } from '../detect/create-engine.ts'
import { replayFiles } from '../detect/replay.ts'
import { loadOrCreateIdentity } from '../../crypto/identity/node-identity.ts'
import { TOKEN_FILE } from '../api/api-token.ts'
import type { ApiEndpointFile } from '../shieldwall-node.ts'
import { VERSION } from '../version.ts'
import { UsageError } from './usage-error.ts'

const USAGE = `shieldwall ${VERSION}: federated peer-to-peer defense daemon

usage:
  shieldwall start [--config FILE] [--data-dir DIR] [--api HOST:PORT] [--listen MULTIADDR]...
                   [--bootstrap MULTIADDR]... [--log FILE[:FORMAT]]... [--name NODE_NAME] [--log-level LEVEL]
  shieldwall keygen [--config FILE] [--data-dir DIR]     create (or show) this node's identity
  shieldwall status [--config FILE] [--data-dir DIR] [--json]   ask the running node for its status
  shieldwall detect FILE... [--format auto|sshd|nginx|apache|nginx-error|apache-error|json|traefik|cowrie]
                    [--config FILE] [--json] [--threads 1|2]
                                                 replay logs through the detectors and print the decisions
  shieldwall privacy epsilon --sample-rate Q --noise-multiplier SIGMA --steps T --delta D
                             [--conversion tight|classic] [--json]   privacy spent by DP-SGD (RDP accountant)
  shieldwall bouncer add NAME | list | delete NAME [--config FILE] [--data-dir DIR] [--json]
                                                 CrowdSec bouncers allowed to read this node's decisions
  shieldwall token create --scope admin|read|bouncer [--name NAME] | list | revoke ID
                                                 scoped API tokens (a created token is shown once)
  shieldwall export --format nft|ipset|nginx|plain [--output FILE]
                                                 the blocklist as a file for a firewall or web server
  shieldwall sim [--scenario NAME] [--nodes N] [--seed S] [--duration SECONDS] [--report FILE.json]
                 [--html FILE.html]              run a simulated network in this process (sim --help)

Configuration: defaults < config file (--config or SHIELDWALL_CONFIG) < SHIELDWALL_* variables < flags.
`

const OPERATOR_ERRORS = new Set([
  'FormatDetectionError',
  'UnknownFormatError',
  'InsecureKeyFileError',
  'InvalidKeyFileError',
  'StoreOpenError',
  'InsecureTokenFileError',
  'InvalidTokenFileError',
  'DataDirError',
  'AtomicWriteError',
  'ListenError',
  'BouncerCommandError',
  'InvalidBouncerNameError',
  'DuplicateBouncerError',
  'UnknownBouncerError',
  'TokenCommandError',
  'InvalidJsonMappingError',
  'TokenNotFoundError',
  'InvalidTokenRequestError',
  'ExportError',
  'AllowlistedError',
  'InvalidExportNameError',
  'UnknownExportFormatError',
])

const COMMON = {
  config: { type: 'string' },
  'data-dir': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const

/** `--api 127.0.0.1:7420`, `--api [::1]:7420`, `--api :7420` */
export function parseHostPort(text: string): { host?: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text)
  if (m === null) throw new UsageError(`--api ${text}: expected HOST:PORT, e.g. 127.0.0.1:7420 or [::1]:7420`)
  const port = Number(m[3])
  if (port > 65535) throw new UsageError(`--api ${text}: port must be 0..65535`)
  const host = m[1] ?? m[2]
  return host === '' ? { port } : { host, port }
}

/** `--log /var/log/auth.log:sshd` (format optional: `--log /var/log/nginx/access.log` sniffs it) */
export function parseLogSource(text: string): { path: string; format: string } {
  const colon = text.lastIndexOf(':')
  const format = colon === -1 ? '' : text.slice(colon + 1)
  if (colon !== -1 && (SOURCE_FORMATS as readonly string[]).includes(format))
    return { path: text.slice(0, colon), format }
  if (colon !== -1 && /^[a-z-]+$/.test(format)) {
    throw new UsageError(
      `--log ${text}: unknown format "${format}"; expected one of ${SOURCE_FORMATS.join(', ')}`,
    )
  }
  return { path: text, format: 'auto' }
}

function configFrom(values: Record<string, unknown>): ShieldwallConfig {
  const cli: Record<string, unknown> = {}
  const set = (path: string[], value: unknown) => {
    let o = cli
    for (const k of path.slice(0, -1)) o = (o[k] ??= {}) as Record<string, unknown>
    o[path.at(-1) as string] = value
  }
  if (values['data-dir'] !== undefined) set(['dataDir'], values['data-dir'])
  if (values.api !== undefined) {
    const { host, port } = parseHostPort(values.api as string)
    if (host !== undefined) set(['api', 'host'], host)
    set(['api', 'port'], port)
  }
  if (values.listen !== undefined) set(['p2p', 'listen'], values.listen)
  if (values.bootstrap !== undefined) set(['p2p', 'bootstrap'], values.bootstrap)
  if (values.name !== undefined) set(['nodeName'], values.name)
  if (values['log-level'] !== undefined) set(['log', 'level'], values['log-level'])
  if (values.log !== undefined) set(['sources'], (values.log as string[]).map(parseLogSource))
  return loadConfig({ file: values.config as string | undefined, env: process.env, cli })
}

async function start(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...COMMON,
      api: { type: 'string' },
      listen: { type: 'string', multiple: true },
      bootstrap: { type: 'string', multiple: true },
      name: { type: 'string' },
      'log-level': { type: 'string' },
      log: { type: 'string', multiple: true },
    },
  })
  if (values.help) return void process.stdout.write(USAGE)
  const config = configFrom(values)
  // Loaded on demand: libp2p, the store and the learning stack are for the daemon; `detect` needs none of it.
  const { ShieldwallNode } = await import('../shieldwall-node.ts')
  const node = new ShieldwallNode(config)
  await node.start()
  if (node.apiToken.created) {
    // Shown once, on the terminal (or the service's journal): it is not logged anywhere else.
    process.stderr.write(
      `\nAPI token (shown once; also in ${node.apiToken.path}, mode 0600):\n\n  ${node.apiToken.token}\n\n`,
    )
  }
  process.stdout.write(
    JSON.stringify({ event: 'ready', peerId: node.peerId, api: node.apiUrl, addresses: node.addresses() }) +
      '\n',
  )
  let stopping = false
  const shutdown = async (signal: string) => {
    if (stopping) return
    stopping = true
    node.log.info({ signal }, 'shutting down')
    const force = setTimeout(() => {
      node.log.error('shutdown took over 10 s; exiting')
      process.exit(1)
    }, 10_000).unref()
    await node.stop()
    clearTimeout(force)
    process.exit(0)
  }
  process.on('SIGINT', () => void shutdown('SIGINT'))
  process.on('SIGTERM', () => void shutdown('SIGTERM'))
}

async function keygen(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: COMMON })
  if (values.help) return void process.stdout.write(USAGE)
  const config = configFrom(values)
  const identity = await loadOrCreateIdentity(config.dataDir)
  process.stdout.write(
    JSON.stringify({ peerId: identity.peerIdString, created: identity.created, path: identity.path }) + '\n',
  )
}

async function status(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { ...COMMON, json: { type: 'boolean' } } })
  if (values.help) return void process.stdout.write(USAGE)
  const config = configFrom(values)
  let endpoint: ApiEndpointFile
  try {
    endpoint = JSON.parse(await readFile(join(config.dataDir, 'api.json'), 'utf8'))
  } catch {
    throw new UsageError(`no running node found for data dir ${config.dataDir} (no api.json); is it started?`)
  }
  const token = config.api.token ?? (await readFile(join(config.dataDir, TOKEN_FILE), 'utf8')).trim()
  const res = await fetch(`${endpoint.url}/api/defense/network/status`, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(5000),
  })
  const body = (await res.json()) as Record<string, unknown>
  if (!res.ok) throw new UsageError(`status failed: ${res.status} ${JSON.stringify(body)}`)
  if (values.json) return void process.stdout.write(JSON.stringify(body, null, 2) + '\n')
  const counts = body.counts as Record<string, unknown>
  process.stdout.write(
    [
      `peer id:    ${body.peerId}`,
      `api:        ${endpoint.url}`,
      `addresses:  ${(body.addresses as string[]).join('\n            ')}`,
      `peers:      ${counts.peers}`,
      `alerts:     ${counts.alertsStored} stored, ${counts.alertsPublished} published, ${counts.alertsAccepted} received`,
      `uptime:     ${body.uptimeSeconds} s`,
    ].join('\n') + '\n',
  )
}

async function detect(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      format: { type: 'string', default: 'auto' },
      json: { type: 'boolean' },
      threads: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) return void process.stdout.write(USAGE)
  if (positionals.length === 0) throw new UsageError('detect: give at least one log file')
  const threads = values.threads === undefined ? undefined : Number(values.threads)
  if (threads !== undefined && !(threads === 1 || threads === 2))
    throw new UsageError(`detect: --threads ${values.threads}: expected 1 or 2`)
  const format = values.format as string
  if (!(SOURCE_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`detect: --format ${format}: expected one of ${SOURCE_FORMATS.join(', ')}`)
  }
  const config = loadConfig({ file: values.config, env: process.env, cli: {} })
  const result = await replayFiles(
    positionals.map((path) => ({ path, format })),
    createDetectionEngine(config.detect),
    threads === undefined ? {} : { threads },
  )
  if (values.json) {
    const { files: _, ...summary } = result
    return void process.stdout.write(JSON.stringify(summary) + '\n')
  }
  for (const d of result.decisions) {
    process.stdout.write(
      `${d.last}  ban ${d.ip} for ${d.durationSeconds} s  ${d.scenario}  confidence ${d.confidence}\n` +
        d.reasons.map((r) => `    ${r}\n`).join(''),
    )
  }
  for (const f of result.files) {
    process.stdout.write(
      `${f.path} (${f.format}): ${f.lines} lines, ${f.parsed} events, ${f.unparsed} unparsed\n`,
    )
  }
  process.stdout.write(
    `${result.decisions.length} decisions; ${result.lines} lines in ${result.seconds} s (${result.linesPerSecond} lines/s)\n`,
  )
}

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv
  const commands: Record<string, (args: string[]) => Promise<void>> = {
    start,
    keygen,
    status,
    detect,
    privacy: async (args) => (await import('./privacy-command.ts')).privacy(args),
    bouncer: async (args) => (await import('./bouncer-command.ts')).bouncerCommand(args),
    token: async (args) => (await import('./token-command.ts')).tokenCommand(args),
    export: async (args) =>
      (await import('./export-command.ts')).runExport(args, {
        stdout: (text) => void process.stdout.write(text),
        stderr: (text) => void process.stderr.write(text),
        env: process.env,
      }),
    // loaded on demand: the simulator pulls in scenario and report code the daemon never needs
    sim: async (args) => (await import('./sim-command.ts')).sim(args),
  }
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE)
    return
  }
  if (command === '--version') return void process.stdout.write(VERSION + '\n')
  const run = commands[command]
  if (run === undefined) throw new UsageError(`unknown command "${command}"\n\n${USAGE}`)
  await run(rest)
}

/** Runs one command line and turns errors into messages and exit codes. */
export async function run(argv: string[]): Promise<void> {
  try {
    await main(argv)
  } catch (e) {
    const err = e as Error & { code?: string }
    // Config and usage errors are the operator's to fix: say what is wrong, not where in our code.
    const usage =
      err.name === 'InvalidConfigError' || err.name === 'UsageError' || err.code?.startsWith('ERR_PARSE_ARGS')
    const operatorFacing = usage || OPERATOR_ERRORS.has(err.name)
    process.stderr.write(`shieldwall: ${operatorFacing ? err.message : (err.stack ?? err.message)}\n`)
    process.exitCode = usage ? 2 : 1
  }
}
