// The exporters as they were before they became generators (commit 7134e0c), kept only as
// the oracle of the byte-for-byte tests: the lazy exporters must write exactly what these wrote.
import { indicatorContains, parseIndicator, type Indicator } from '../../../protocol/indicator.ts'
import type { BlockEntry } from '../block-entry.ts'

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
    const remaining = options.now === undefined ? Infinity : entry.expiresAt - options.now
    const timeout =
      options.timeouts && remaining < FAR_FUTURE_MS ? Math.max(1, Math.ceil(remaining / 1000)) : undefined
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

function header(p: PreparedEntries, comment = '#'): string {
  const n = p.v4.length + p.v6.length
  const skipped = p.covered > 0 ? `; ${p.covered} inside broader entries left out` : ''
  return `${comment} shieldwall blocklist: ${n} entries (${p.v4.length} IPv4, ${p.v6.length} IPv6)${skipped}\n`
}

/**
 * An `nft -f` script that (re)creates table `inet <name>` with interval sets `<name>_v4` and `<name>_v6` and,
 * unless `chains: false`, input and forward chains dropping traffic from them. Declaring then deleting the
 * table first makes the whole file one atomic replacement, whether or not the table existed.
 */
export function toNftables(entries: Iterable<ExportEntry>, options: ExportOptions = {}): string {
  const p = prepareEntries(entries, options)
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
  for (const [set, rows] of [
    [`${name}_v4`, p.v4],
    [`${name}_v6`, p.v6],
  ] as const) {
    for (let i = 0; i < rows.length; i += NFT_CHUNK) {
      const elements = rows
        .slice(i, i + NFT_CHUNK)
        .map((r) =>
          r.timeout === undefined ? r.indicator.canonical : `${r.indicator.canonical} timeout ${r.timeout}s`,
        )
      lines.push(`add element inet ${name} ${set} { ${elements.join(', ')} }`)
    }
  }
  return lines.join('\n') + '\n'
}

/** hash:net takes prefixes from /1: a /0 goes in as its two halves. */
function ipsetValues(indicator: Indicator): string[] {
  if (indicator.prefix > 0) return [indicator.canonical]
  return indicator.family === 4 ? ['0.0.0.0/1', '128.0.0.0/1'] : ['::/1', '8000::/1']
}

/**
 * An `ipset restore` file for hash:net sets `<name>-v4` (family inet) and `<name>-v6` (family inet6). Each set
 * is filled under a temporary name and swapped in, so the live set is never empty or half full.
 */
export function toIpset(entries: Iterable<ExportEntry>, options: ExportOptions = {}): string {
  const p = prepareEntries(entries, options)
  const name = nameOf(options)
  const lines = [header(p).trimEnd()]
  for (const [suffix, family, rows] of [
    ['v4', 'inet', p.v4],
    ['v6', 'inet6', p.v6],
  ] as const) {
    const set = `${name}-${suffix}`
    const tmp = `${set}-tmp`
    let maxelem = IPSET_MIN_MAXELEM
    while (maxelem < rows.length * 2) maxelem *= 2
    const create = `hash:net family ${family} maxelem ${maxelem}${options.timeouts ? ' timeout 0' : ''}`
    lines.push(`create ${set} ${create} -exist`, `create ${tmp} ${create} -exist`, `flush ${tmp}`)
    for (const row of rows) {
      const timeout = row.timeout === undefined ? '' : ` timeout ${Math.min(row.timeout, IPSET_MAX_TIMEOUT)}`
      for (const value of ipsetValues(row.indicator)) lines.push(`add ${tmp} ${value}${timeout} -exist`)
    }
    lines.push(`swap ${tmp} ${set}`, `destroy ${tmp}`)
  }
  return lines.join('\n') + '\n'
}

/** An nginx include (`include /etc/nginx/shieldwall-deny.conf;` in http, server or location). */
export function toNginx(entries: Iterable<ExportEntry>, options: ExportOptions = {}): string {
  const p = prepareEntries(entries, { ...options, timeouts: false })
  return header(p) + [...p.v4, ...p.v6].map((r) => `deny ${r.indicator.canonical};\n`).join('')
}

/** One address or CIDR per line, nothing else, for scripts. */
export function toPlain(entries: Iterable<ExportEntry>, options: ExportOptions = {}): string {
  const p = prepareEntries(entries, { ...options, timeouts: false })
  return [...p.v4, ...p.v6].map((r) => r.indicator.canonical + '\n').join('')
}

export function exportBlocklist(
  format: ExportFormat,
  entries: Iterable<ExportEntry>,
  options: ExportOptions = {},
): string {
  switch (format) {
    case 'nft':
      return toNftables(entries, options)
    case 'ipset':
      return toIpset(entries, options)
    case 'nginx':
      return toNginx(entries, options)
    case 'plain':
      return toPlain(entries, options)
    default:
      throw new UnknownExportFormatError(
        `unknown export format ${JSON.stringify(format)}; expected one of ${EXPORT_FORMATS.join(', ')}`,
      )
  }
}
