import type { EventKind, SecurityEvent } from '../event.ts'
import type { YearTracker } from './year-tracker.ts'

/**
 * A parser's answer for one line, three-way so the hot path never allocates for lines it skips:
 * - a `SecurityEvent`: the line is about a client and worth a detector's attention;
 * - `undefined`: understood but irrelevant (an sshd session-opened line, a cron line in auth.log, a JSON record
 *   of an event type nobody mapped). Most lines of a healthy log end here;
 * - `UNPARSED`: not understood (garbage, a truncated line, a format the parser does not know, an sshd message
 *   nobody taught it). The node counts these so an operator notices a wrong `format` or a new log dialect.
 *
 * `UNPARSED` is a `unique symbol`, so `r === UNPARSED` narrows in both branches and costs one pointer compare.
 */
export const UNPARSED: unique symbol = Symbol('unparsed')
export type Unparsed = typeof UNPARSED
export type ParseResult = SecurityEvent | Unparsed | undefined

/**
 * Per-call context. Callers keep one object per source and mutate `now` rather than building one per line.
 */
export interface ParseContext {
  /** force this year for syslog lines (which carry none), bypassing the parser's YearTracker */
  year?: number
  /**
   * ms since the epoch: the arrival time, used for lines that carry no timestamp at all (journal `cat` output)
   * and, when following live, as the bound no inferred syslog timestamp may exceed by more than a day.
   * Defaults to `Date.now()`, read only when needed.
   */
  now?: number
  /** stored in `SecurityEvent.source`; overrides `ParserOptions.source` */
  source?: string
}

export interface LineParser {
  /** the format name it was created for (`sshd`, `nginx`, ...) */
  readonly format: string
  /** `line` has no trailing newline. Never throws on bad input. */
  parse(line: string, ctx?: ParseContext): ParseResult
}

/** Field mapping for the `json` format: each value is a dotted path (`request.remote_addr`) or a list tried in order. */
export interface JsonFieldMap {
  time?: string | readonly string[]
  ip: string | readonly string[]
  kind?: string | readonly string[]
  user?: string | readonly string[]
  method?: string | readonly string[]
  path?: string | readonly string[]
  status?: string | readonly string[]
  bytes?: string | readonly string[]
  userAgent?: string | readonly string[]
  referer?: string | readonly string[]
}

export interface JsonMapping {
  fields: JsonFieldMap
  /**
   * Kind table: the value of `fields.kind` looked up here; `null` = irrelevant. Values absent from the table
   * get `defaultKind` (irrelevant when that is null/undefined). Without a table every record is `defaultKind`.
   */
  kinds?: Readonly<Record<string, EventKind | null>>
  defaultKind?: EventKind | null
  service?: 'ssh' | 'http' | 'other'
}

export interface ParserOptions {
  /** source label stored in every event */
  source?: string
  /** year for syslog lines; when absent it comes from `reference` or the current date */
  year?: number
  /**
   * ms since the epoch no log line is newer than: the file's mtime when replaying a file. Sets the starting year
   * and makes the year tracker step back a year when a date would land more than a day after it.
   * When absent the parser is assumed to follow live input and the bound is the current time.
   */
  reference?: number
  /** supply your own tracker (e.g. shared with a file tailer that knows about rotations) */
  yearTracker?: YearTracker
  /**
   * Timestamps without an offset (BSD syslog, Apache/nginx error logs) are local time of the logging host.
   * Give either a fixed offset east of UTC in minutes, or an IANA zone (DST-aware). Default: UTC.
   */
  utcOffsetMinutes?: number
  timeZone?: string
  /** `json` format: field mapping (required unless a preset name is used as the format) */
  json?: JsonMapping
  /** sshd: how many connections (pids) to remember for multi-line attribution (default 4096) */
  maxTrackedConnections?: number
}
