import { AccessLogParser } from './access-log.ts'
import { ApacheErrorParser } from './apache-error.ts'
import { JSON_PRESETS } from './json-presets.ts'
import { InvalidJsonMappingError, JsonLinesParser } from './json-lines.ts'
import { NginxErrorParser } from './nginx-error.ts'
import type { LineParser, ParserOptions } from './parser.ts'
import { SshdParser } from './sshd.ts'

export type {
  JsonFieldMap,
  JsonMapping,
  LineParser,
  ParseContext,
  ParseResult,
  ParserOptions,
  Unparsed,
} from './parser.ts'
export { UNPARSED } from './parser.ts'
export { YearTracker } from './year-tracker.ts'
export type { YearTrackerInit } from './year-tracker.ts'
export { detectFormat } from './detect-format.ts'
export { canonicalIp } from './ip.ts'
export { isFailureKind } from './new-event.ts'
export { InvalidJsonMappingError } from './json-lines.ts'
export { InvalidTimeZoneError } from './local-time.ts'
export { JSON_PRESETS } from './json-presets.ts'

/**
 * Format names accepted by `createParser`. `nginx` and `apache` are the same access-log parser (combined,
 * common, vhost_combined) and also take error-log lines mixed into the same file; `traefik` and `cowrie` are
 * `json` with a preset mapping.
 */
export const FORMATS = [
  'sshd',
  'nginx',
  'apache',
  'nginx-error',
  'apache-error',
  'json',
  'traefik',
  'cowrie',
] as const
export type Format = (typeof FORMATS)[number]

export class UnknownFormatError extends Error {
  override name = 'UnknownFormatError'
}

/** A new, stateful parser for one source (it tracks the year and sshd connections): one per file / stream. */
export function createParser(format: string, options: ParserOptions = {}): LineParser {
  switch (format) {
    case 'sshd':
      return new SshdParser(options, format)
    case 'nginx':
    case 'apache':
      return new AccessLogParser(options, format)
    case 'nginx-error':
      return new NginxErrorParser(options, format)
    case 'apache-error':
      return new ApacheErrorParser(options, format)
    case 'json':
      if (options.json === undefined)
        throw new InvalidJsonMappingError('format "json" needs options.json (a field mapping)')
      return new JsonLinesParser(options.json, options, format)
    case 'traefik':
    case 'cowrie':
      return new JsonLinesParser(options.json ?? JSON_PRESETS[format], options, format)
    default:
      throw new UnknownFormatError(
        `unknown log format ${JSON.stringify(format)}; known formats: ${FORMATS.join(', ')}`,
      )
  }
}
