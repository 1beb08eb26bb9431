import type { EventKind, ServiceKind } from '../event.ts'
import { EVENT_KINDS } from '../event.ts'
import { canonicalIp } from './ip.ts'
import { newEvent } from './new-event.ts'
import type {
  JsonFieldMap,
  JsonMapping,
  LineParser,
  ParseContext,
  ParseResult,
  ParserOptions,
} from './parser.ts'
import { UNPARSED } from './parser.ts'
import { isoToMs } from './timestamps.ts'

/**
 * JSON lines with a configurable mapping (see `JsonMapping`). Paths are dotted (`request.remote_addr`); a key
 * that itself contains dots is found too. Invalid JSON is UNPARSED, never thrown.
 *
 * When a kind table is given and the record's kind must be one of a few plain values (`cowrie.login.failed`),
 * lines that contain none of those values as a JSON string are skipped before `JSON.parse`: honeypot and proxy
 * logs are mostly records nobody mapped, and parsing them is the whole cost. Such a skipped line still has to
 * look like one JSON object (`{...}`) to count as understood.
 */

export class InvalidJsonMappingError extends Error {
  override name = 'InvalidJsonMappingError'
}

type Path = readonly (readonly string[])[] // alternatives, each a list of keys

function compile(spec: string | readonly string[] | undefined): Path | undefined {
  if (spec === undefined) return undefined
  const list = typeof spec === 'string' ? [spec] : spec
  return list.map((p) => [p, ...p.split('.')])
}

function lookup(obj: unknown, path: Path | undefined): unknown {
  if (path === undefined) return undefined
  for (const alt of path) {
    if (obj === null || typeof obj !== 'object') return undefined
    const rec = obj as Record<string, unknown>
    // alt[0] is the whole dotted key, alt[1..] its segments
    let v: unknown = rec[alt[0]]
    if (v === undefined && alt.length > 2) {
      v = rec
      for (let i = 1; i < alt.length && v !== undefined; i++) {
        v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[alt[i]] : undefined
      }
    }
    if (v !== undefined && v !== null && v !== '') return v
  }
  return undefined
}

function text(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined
  const s =
    typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined
  return s === undefined || s === '' || s === '-' ? undefined : s
}

/** ms since the epoch from a number (s, ms, µs or ns by magnitude) or a string (the same, or ISO 8601) */
export function timeValue(v: unknown): number {
  let n: number
  if (typeof v === 'number') n = v
  else if (typeof v === 'string') {
    if (/^\d+(?:\.\d+)?$/.test(v)) n = Number(v)
    else return isoToMs(v)
  } else return Number.NaN
  if (n < 1e11) return Math.round(n * 1000)
  if (n < 1e14) return Math.round(n)
  if (n < 1e17) return Math.round(n / 1000)
  return Math.round(n / 1e6)
}

/** an address as proxies log it: `1.2.3.4`, `1.2.3.4:5678`, `[2001:db8::1]:443`, `1.2.3.4, 10.0.0.1` (first wins) */
export function ipValue(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined
  let s = v
  const comma = s.indexOf(',')
  if (comma !== -1) s = s.slice(0, comma)
  s = s.trim()
  const direct = canonicalIp(s)
  if (direct !== undefined) return direct
  if (s.charCodeAt(0) === 91) {
    const close = s.indexOf(']')
    return close === -1 ? undefined : canonicalIp(s, 1, close)
  }
  const colon = s.lastIndexOf(':')
  if (colon > 0 && s.indexOf('.') !== -1) return canonicalIp(s, 0, colon)
  return undefined
}

const PLAIN = /^[A-Za-z0-9._:-]+$/

export class JsonLinesParser implements LineParser {
  readonly format: string
  readonly #source: string | undefined
  readonly #f: Record<keyof JsonFieldMap, Path | undefined>
  readonly #kinds: Readonly<Record<string, EventKind | null>> | undefined
  readonly #defaultKind: EventKind | null
  readonly #service: ServiceKind
  /** `"value"` needles of every mapped kind, when the prefilter applies */
  readonly #needles: readonly string[] | undefined

  constructor(mapping: JsonMapping, options: ParserOptions = {}, format = 'json') {
    if (mapping?.fields?.ip === undefined)
      throw new InvalidJsonMappingError('json mapping needs at least fields.ip')
    this.format = format
    this.#source = options.source
    const f = mapping.fields
    this.#f = {
      time: compile(f.time),
      ip: compile(f.ip),
      kind: compile(f.kind),
      user: compile(f.user),
      method: compile(f.method),
      path: compile(f.path),
      status: compile(f.status),
      bytes: compile(f.bytes),
      userAgent: compile(f.userAgent),
      referer: compile(f.referer),
    }
    for (const [value, kind] of Object.entries(mapping.kinds ?? {})) {
      if (kind !== null && !(EVENT_KINDS as readonly string[]).includes(kind))
        throw new InvalidJsonMappingError(
          `unknown event kind ${JSON.stringify(kind)} for ${JSON.stringify(value)}`,
        )
    }
    this.#kinds = mapping.kinds
    // without a kind table every record is an event: a request for an http service, a failure otherwise
    this.#defaultKind =
      mapping.defaultKind !== undefined
        ? mapping.defaultKind
        : mapping.kinds !== undefined
          ? null
          : mapping.service === 'http'
            ? 'http_request'
            : 'generic_failure'
    if (this.#defaultKind !== null && !(EVENT_KINDS as readonly string[]).includes(this.#defaultKind))
      throw new InvalidJsonMappingError(`unknown event kind ${JSON.stringify(this.#defaultKind)}`)
    this.#service = mapping.service ?? 'other'
    const wanted = Object.entries(mapping.kinds ?? {})
      .filter(([, k]) => k !== null)
      .map(([v]) => v)
    this.#needles =
      this.#kinds !== undefined &&
      this.#defaultKind === null &&
      this.#f.kind !== undefined &&
      wanted.every((v) => PLAIN.test(v))
        ? wanted.map((v) => `"${v}"`)
        : undefined
  }

  parse(line: string, ctx?: ParseContext): ParseResult {
    let start = 0
    while (line.charCodeAt(start) === 32 || line.charCodeAt(start) === 9) start++
    if (line.charCodeAt(start) !== 123 /* { */) return UNPARSED
    if (this.#needles !== undefined) {
      let hit = false
      for (const n of this.#needles) {
        if (line.indexOf(n, start) !== -1) {
          hit = true
          break
        }
      }
      if (!hit) {
        let end = line.length - 1
        while (end > start && (line.charCodeAt(end) === 32 || line.charCodeAt(end) === 13)) end--
        return line.charCodeAt(end) === 125 /* } */ ? undefined : UNPARSED
      }
    }
    let rec: unknown
    try {
      rec = JSON.parse(line)
    } catch {
      return UNPARSED
    }
    if (rec === null || typeof rec !== 'object' || Array.isArray(rec)) return UNPARSED

    let kind: EventKind | null = this.#defaultKind
    if (this.#kinds !== undefined && this.#f.kind !== undefined) {
      const k = text(lookup(rec, this.#f.kind))
      if (k !== undefined && Object.hasOwn(this.#kinds, k)) kind = this.#kinds[k]
    }
    if (kind === null) return undefined
    const ip = ipValue(lookup(rec, this.#f.ip))
    if (ip === undefined) return undefined // understood, but names no client we could act on

    let time = timeValue(lookup(rec, this.#f.time))
    if (time !== time) time = ctx?.now ?? Date.now()
    const ev = newEvent(time, ip, this.#service, kind, ctx?.source ?? this.#source)
    const f = this.#f
    if (f.user !== undefined) ev.user = text(lookup(rec, f.user))
    if (f.method !== undefined) ev.method = text(lookup(rec, f.method))
    if (f.path !== undefined) ev.path = text(lookup(rec, f.path))
    if (f.status !== undefined) {
      const s = Number(lookup(rec, f.status))
      if (Number.isFinite(s) && s > 0) ev.status = s
    }
    if (f.bytes !== undefined) {
      const b = Number(lookup(rec, f.bytes))
      if (Number.isFinite(b) && b >= 0) ev.bytes = b
    }
    if (f.userAgent !== undefined) ev.userAgent = text(lookup(rec, f.userAgent))
    if (f.referer !== undefined) ev.referer = text(lookup(rec, f.referer))
    return ev
  }
}
