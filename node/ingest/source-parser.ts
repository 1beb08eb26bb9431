import {
  createParser,
  detectFormat,
  UNPARSED,
  type LineParser,
  type ParseContext,
  type ParseResult,
  type ParserOptions,
} from './parsers/index.ts'

export class FormatDetectionError extends Error {
  override name = 'FormatDetectionError'
}

/**
 * Web servers often write access and error lines to one file (or operators point us at a combined stream);
 * for those formats a line the first parser cannot read gets a second chance with the sibling format. The
 * fallback only runs for lines that would otherwise be counted as unparsed, so the common path costs nothing.
 */
const SIBLINGS: Record<string, string> = {
  nginx: 'nginx-error',
  apache: 'apache-error',
  'nginx-error': 'nginx',
  'apache-error': 'apache',
}

class WithFallback implements LineParser {
  readonly format: string
  readonly #primary: LineParser
  readonly #fallback: LineParser

  constructor(primary: LineParser, fallback: LineParser) {
    this.format = primary.format
    this.#primary = primary
    this.#fallback = fallback
  }

  parse(line: string, ctx?: ParseContext): ParseResult {
    const r = this.#primary.parse(line, ctx)
    return r === UNPARSED ? this.#fallback.parse(line, ctx) : r
  }
}

/**
 * The parser for one configured source. `auto` sniffs the format from the first lines (the caller passes a
 * sample); an unknown format is an UnknownFormatError naming the known ones.
 */
export function createSourceParser(
  format: string,
  sample: readonly string[],
  options: ParserOptions = {},
): LineParser {
  let chosen = format
  if (format === 'auto') {
    const detected = detectFormat(sample)
    if (detected === undefined) {
      throw new FormatDetectionError(
        `could not recognise the log format from the first ${sample.length} lines; give it with --format or in the source's config`,
      )
    }
    chosen = detected
  }
  const primary = createParser(chosen, options)
  const sibling = SIBLINGS[chosen]
  return sibling === undefined ? primary : new WithFallback(primary, createParser(sibling, options))
}
