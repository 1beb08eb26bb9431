import { indicatorContains, parseIndicator, type Indicator } from '../../protocol/indicator.ts'
import type { BlockEntry } from './block-entry.ts'

/**
 * The blocklist as files for enforcers that are not bouncers: an nftables script, an `ipset restore` file, an
 * nginx include, a plain list. Pure functions of the entries, deterministic (sorted, no timestamps), so a
 * periodic export that changes nothing writes the same bytes and a reload can be skipped.
 */

export const EXPORT_FORMATS = ['nft', 'ipset', 'nginx', 'plain'] as const
export type ExportFormat = (typeof EXPORT_FORMATS)[number]

export type ExportEntry = Pick<BlockEntry, 'value' | 'expiresAt'>

export interface ExportOptions {
  /** entries expired at this time are left out; also the base for timeouts (default: keep everything) */
  now?: number
  /** give nftables / ipset elements a timeout so the firewall forgets them by itself (needs `now`) */
  timeouts?: boolean
  /** base name of the nftables table and sets, and of the ipset sets */
  name?: string
  /** nftables: also define input and forward chains that drop the sets' sources (default true) */
  chains?: boolean
}

export const DEFAULT_EXPORT_NAME = 'shieldwall'
/** elements per `add element` statement, to keep lines a reasonable length */
const NFT_CHUNK = 1000
/** ipset's largest timeout, in seconds; longer blocks are renewed by the next export */
export const IPSET_MAX_TIMEOUT = 2_147_483
/** hash:net sets allocate as they fill, so a generous fixed maximum costs nothing and keeps `create` stable */
const IPSET_MIN_MAXELEM = 1 << 20
/** nftables and ipset timeouts beyond this are treated as "never" (blocks without expiry) */
const FAR_FUTURE_MS = 100 * 365 * 24 * 3600_000

export class UnknownExportFormatError extends Error {
  override name = 'UnknownExportFormatError'
}

export class InvalidExportNameError extends Error {
  override name = 'InvalidExportNameError'
}

/** Safe as an nftables table/set name and an ipset name (31 characters at most, with `-tmp` added). */
const NAME_PATTERN = /^[a-z][a-z0-9_]{0,22}$/

/** The export name rule in words, for the API's and the CLI's errors. */
export const EXPORT_NAME_RULE =
  'a lowercase letter, then lowercase letters, digits or _ (at most 23 characters)'

/** The one check of an export name, shared by the API route and the CLI so both refuse what the exporter would. */
export function isExportName(name: string): boolean {
  return NAME_PATTERN.test(name)
}

function nameOf(options: ExportOptions): string {
  const name = options.name ?? DEFAULT_EXPORT_NAME
  if (!isExportName(name)) {
    throw new InvalidExportNameError(`export name ${JSON.stringify(name)}: ${EXPORT_NAME_RULE}`)
  }
  return name
}

interface Row {
  indicator: Indicator
  /** seconds left, or undefined for no timeout */
  timeout?: number
}

export interface PreparedEntries {
  v4: Row[]
  v6: Row[]
  /** entries left out because a broader entry in the list covers them */
  covered: number
  /** values that did not parse (never from a real blocklist) */
  invalid: number
}

function compare(a: Indicator, b: Indicator): number {
  if (a.family !== b.family) return a.family - b.family
  for (let i = 0; i < a.bytes.length; i++) if (a.bytes[i] !== b.bytes[i]) return a.bytes[i] - b.bytes[i]
  return a.prefix - b.prefix
}

/**
 * Sorted, expired entries dropped, and entries inside a broader entry dropped: nftables interval sets reject
 * overlapping elements, and the broader entry blocks them anyway.
 */
export function prepareEntries(entries: Iterable<ExportEntry>, options: ExportOptions = {}): PreparedEntries {
  const rows: Row[] = []
  let invalid = 0
  for (const entry of entries) {
    if (options.now !== undefined && entry.expiresAt <= options.now) continue
    let indicator: Indicator
    try {
      indicator = parseIndicator(entry.value)
    } catch {
      invalid++
      continue
    }
    const timeout = timeoutOf(entry.expiresAt, options)
    rows.push(timeout === undefined ? { indicator } : { indicator, timeout })
  }
  rows.sort((a, b) => compare(a.indicator, b.indicator))
  const out: PreparedEntries = { v4: [], v6: [], covered: 0, invalid }
  // sorted by address then prefix, ranges are nested or disjoint: only the last kept range can cover the next
  let cover: Row | undefined
  for (const row of rows) {
    if (cover !== undefined && indicatorContains(cover.indicator, row.indicator)) {
      // a duplicate value keeps the longer timeout
      if (cover.indicator.prefix === row.indicator.prefix && cover.timeout !== undefined) {
        cover.timeout = row.timeout === undefined ? undefined : Math.max(cover.timeout, row.timeout)
      }
      out.covered++
      continue
    }
    ;(row.indicator.family === 4 ? out.v4 : out.v6).push(row)
    cover = row
  }
  return out
}

/** One element of an export: a canonical value and, with timeouts, its seconds left. */
export interface ExportRow {
  value: string
  family: 4 | 6
  prefix: number
  /** seconds left, or undefined for no timeout */
  timeout?: number
}

/**
 * What an exporter writes from: the counts its header states, then the rows of each family, sorted, expired and
 * covered entries already left out. `rows` is read once per family, as the output is written: a source over the
 * node's shared snapshot looks entries up then instead of holding them (node/bouncer/export-rows.ts).
 */
export interface ExportRows {
  readonly v4: number
  readonly v6: number
  readonly covered: number
  rows(family: 4 | 6): Iterable<ExportRow>
}

/** The seconds left that `prepareEntries` gives an entry expiring at `expiresAt`, or undefined for none. */
export function timeoutOf(expiresAt: number, options: ExportOptions): number | undefined {
  const remaining = options.now === undefined ? Infinity : expiresAt - options.now
  return options.timeouts && remaining < FAR_FUTURE_MS ? Math.max(1, Math.ceil(remaining / 1000)) : undefined
}

function* rowsOf(rows: readonly Row[]): Generator<ExportRow> {
  for (const { indicator, timeout } of rows) {
    const { canonical: value, family, prefix } = indicator
    yield timeout === undefined ? { value, family, prefix } : { value, family, prefix, timeout }
  }
}

/** Prepared entries as the exporters read them. */
export function exportRows(p: PreparedEntries): ExportRows {
  return {
    v4: p.v4.length,
    v6: p.v6.length,
    covered: p.covered,
    rows: (family) => rowsOf(family === 4 ? p.v4 : p.v6),
  }
}

function header(p: ExportRows, comment = '#'): string {
  const n = p.v4 + p.v6
  const skipped = p.covered > 0 ? `; ${p.covered} inside broader entries left out` : ''
  return `${comment} shieldwall blocklist: ${n} entries (${p.v4} IPv4, ${p.v6} IPv6)${skipped}\n`
}

/*
 * Each exporter is a generator of pieces of its file, a line or one element at a time, so that a route can write
 * a 110,000-entry export as its client reads it (node/bouncer/paced-stream.ts) and never hold the whole file;
 * the whole-string functions below join the same pieces.
 */

/**
 * An `nft -f` script that (re)creates table `inet <name>` with interval sets `<name>_v4` and `<name>_v6` and,
 * unless `chains: false`, input and forward chains dropping traffic from them. Declaring then deleting the
 * table first makes the whole file one atomic replacement, whether or not the table existed.
 */
export function* nftablesChunks(p: ExportRows, options: ExportOptions = {}): Generator<string> {
  const name = nameOf(options)
  const flags = options.timeouts ? 'interval, timeout' : 'interval'
  const lines = [
    '#!/usr/sbin/nft -f',
    header(p).trimEnd(),
    `table inet ${name}`,
    `delete table inet ${name}`,
    `table inet ${name} {`,
    `\tset ${name}_v4 {`,
    '\t\ttype ipv4_addr',
    `\t\tflags ${flags}`,
    '\t}',
    `\tset ${name}_v6 {`,
    '\t\ttype ipv6_addr',
    `\t\tflags ${flags}`,
    '\t}',
  ]
  if (options.chains !== false) {
    for (const hook of ['input', 'forward']) {
      lines.push(
        `\tchain ${hook} {`,
        `\t\ttype filter hook ${hook} priority filter - 10; policy accept;`,
        `\t\tip saddr @${name}_v4 drop`,
        `\t\tip6 saddr @${name}_v6 drop`,
        '\t}',
      )
    }
  }
  lines.push('}')
  yield lines.join('\n') + '\n'
  for (const [set, family] of [
    [`${name}_v4`, 4],
    [`${name}_v6`, 6],
  ] as const) {
    // NFT_CHUNK elements per statement, written an element at a time
    let inStatement = 0
    for (const r of p.rows(family)) {
      const element = r.timeout === undefined ? r.value : `${r.value} timeout ${r.timeout}s`
      yield inStatement === 0 ? `add element inet ${name} ${set} { ${element}` : `, ${element}`
      if (++inStatement === NFT_CHUNK) {
        yield ' }\n'
        inStatement = 0
      }
    }
    if (inStatement > 0) yield ' }\n'
  }
}

/** hash:net takes prefixes from /1: a /0 goes in as its two halves. */
function ipsetValues(row: ExportRow): string[] {
  if (row.prefix > 0) return [row.value]
  return row.family === 4 ? ['0.0.0.0/1', '128.0.0.0/1'] : ['::/1', '8000::/1']
}

/**
 * An `ipset restore` file for hash:net sets `<name>-v4` (family inet) and `<name>-v6` (family inet6). Each set
 * is filled under a temporary name and swapped in, so the live set is never empty or half full.
 */
export function* ipsetChunks(p: ExportRows, options: ExportOptions = {}): Generator<string> {
  const name = nameOf(options)
  yield header(p)
  for (const [suffix, family, count] of [
    ['v4', 'inet', p.v4],
    ['v6', 'inet6', p.v6],
  ] as const) {
    const set = `${name}-${suffix}`
    const tmp = `${set}-tmp`
    let maxelem = IPSET_MIN_MAXELEM
    while (maxelem < count * 2) maxelem *= 2
    const create = `hash:net family ${family} maxelem ${maxelem}${options.timeouts ? ' timeout 0' : ''}`
    yield `create ${set} ${create} -exist\ncreate ${tmp} ${create} -exist\nflush ${tmp}\n`
    for (const row of p.rows(family === 'inet' ? 4 : 6)) {
      const timeout = row.timeout === undefined ? '' : ` timeout ${Math.min(row.timeout, IPSET_MAX_TIMEOUT)}`
      for (const value of ipsetValues(row)) yield `add ${tmp} ${value}${timeout} -exist\n`
    }
    yield `swap ${tmp} ${set}\ndestroy ${tmp}\n`
  }
}

/** An nginx include (`include /etc/nginx/shieldwall-deny.conf;` in http, server or location). */
export function* nginxChunks(p: ExportRows): Generator<string> {
  yield header(p)
  for (const family of [4, 6] as const) for (const r of p.rows(family)) yield `deny ${r.value};\n`
}

/** One address or CIDR per line, nothing else, for scripts. */
export function* plainChunks(p: ExportRows): Generator<string> {
  for (const family of [4, 6] as const) for (const r of p.rows(family)) yield r.value + '\n'
}

/** Whether a format writes timeouts at all: nginx and plain lists have none. */
export function formatTimeouts(format: ExportFormat, options: ExportOptions): ExportOptions {
  return format === 'nginx' || format === 'plain' ? { ...options, timeouts: false } : options
}

/** Throws for an unknown format or a bad name: before anything is prepared or written. */
export function checkExport(format: ExportFormat, options: ExportOptions): void {
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) {
    throw new UnknownExportFormatError(
      `unknown export format ${JSON.stringify(format)}; expected one of ${EXPORT_FORMATS.join(', ')}`,
    )
  }
  if (format === 'nft' || format === 'ipset') nameOf(options)
}

/** The export as pieces, from rows prepared with `formatTimeouts(format, options)`. */
export function exportChunks(
  format: ExportFormat,
  rows: ExportRows,
  options: ExportOptions = {},
): Generator<string> {
  checkExport(format, options)
  return format === 'nft'
    ? nftablesChunks(rows, options)
    : format === 'ipset'
      ? ipsetChunks(rows, options)
      : format === 'nginx'
        ? nginxChunks(rows)
        : plainChunks(rows)
}

function exportWhole(format: ExportFormat, entries: Iterable<ExportEntry>, options: ExportOptions): string {
  checkExport(format, options)
  const prepared = formatTimeouts(format, options)
  let text = ''
  for (const chunk of exportChunks(format, exportRows(prepareEntries(entries, prepared)), prepared))
    text += chunk
  return text
}

export function toNftables(entries: Iterable<ExportEntry>, options: ExportOptions = {}): string {
  return exportWhole('nft', entries, options)
}

export function toIpset(entries: Iterable<ExportEntry>, options: ExportOptions = {}): string {
  return exportWhole('ipset', entries, options)
}

export function toNginx(entries: Iterable<ExportEntry>, options: ExportOptions = {}): string {
  return exportWhole('nginx', entries, options)
}

export function toPlain(entries: Iterable<ExportEntry>, options: ExportOptions = {}): string {
  return exportWhole('plain', entries, options)
}

/** The whole export as one string, for files (`shieldwall export`) and tests; the API writes `exportChunks`. */
export function exportBlocklist(
  format: ExportFormat,
  entries: Iterable<ExportEntry>,
  options: ExportOptions = {},
): string {
  return exportWhole(format, entries, options)
}
