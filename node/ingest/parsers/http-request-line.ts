/**
 * Splitting a logged HTTP request line (`GET /path HTTP/1.1`) and reading quoted access-log fields, shared by
 * the access-log and nginx error-log parsers. Methods are interned so the common ones cost no allocation.
 */

import { TextInterner } from './text-interner.ts'

/** result slots of `splitRequest`, reused (single-threaded hot path) */
export const request = { method: undefined as string | undefined, path: '' }

const METHODS: Record<string, string> = {
  GET: 'GET',
  POST: 'POST',
  HEAD: 'HEAD',
  PUT: 'PUT',
  DELETE: 'DELETE',
  OPTIONS: 'OPTIONS',
  PATCH: 'PATCH',
  CONNECT: 'CONNECT',
  TRACE: 'TRACE',
  PROPFIND: 'PROPFIND',
}

function internMethod(line: string, start: number, end: number): string | undefined {
  const n = end - start
  if (n < 3 || n > 16) return undefined
  for (let i = start; i < end; i++) {
    const c = line.charCodeAt(i)
    if (!((c >= 65 && c <= 90) || c === 95 || c === 45)) return undefined // A-Z _ -
  }
  // the four that make up nearly all traffic, without building a key
  if (n === 3 && line.startsWith('GET', start)) return 'GET'
  if (n === 4 && line.startsWith('POST', start)) return 'POST'
  if (n === 4 && line.startsWith('HEAD', start)) return 'HEAD'
  const m = line.slice(start, end)
  return METHODS[m] ?? m
}

/**
 * Split line[start, end) (the request, quotes excluded) into `request.method` / `request.path`. A request that is
 * not `METHOD target[ HTTP/x]` (TLS bytes on a plain port, `-`, a bare `\x16\x03...`) keeps `method` undefined and
 * the raw text as `path`: scanners do that and detectors want to see it.
 */
export function splitRequest(line: string, start: number, end: number, hasEscapes: boolean): void {
  const sp = line.indexOf(' ', start)
  const method = sp !== -1 && sp < end ? internMethod(line, start, sp) : undefined
  if (method === undefined) {
    request.method = undefined
    request.path = slice(line, start, end, hasEscapes)
    return
  }
  let pathEnd = end
  const last = line.lastIndexOf(' ', end - 1)
  if (last > sp && line.startsWith('HTTP/', last + 1)) pathEnd = last
  request.method = method
  request.path =
    hasEscapes || pathEnd === sp + 1
      ? slice(line, sp + 1, pathEnd, hasEscapes)
      : paths.get(line, sp + 1, pathEnd)
}

/** a site's pages, assets and the probe lists scanners send repeat endlessly; shared by the parsers of a thread */
const paths = new TextInterner(4096, 256)
/** user agents repeat even more */
const userAgents = new TextInterner(1024, 512)

/** A quoted user agent field, line[start, end): one string per distinct text while it keeps coming back. */
export function userAgentAt(line: string, start: number, end: number, hasEscapes: boolean): string {
  return hasEscapes ? slice(line, start, end, true) : userAgents.get(line, start, end)
}

/** line[start, end) with Apache's `\"` and `\\` escapes undone when present */
export function slice(line: string, start: number, end: number, hasEscapes: boolean): string {
  const s = line.slice(start, end)
  return hasEscapes ? s.replace(/\\(["\\])/g, '$1') : s
}

/** cursor for `quotedEnd` */
export const quoted = { hasEscapes: false }

/**
 * Index of the `"` closing a quoted field whose content starts at `start`, skipping backslash-escaped quotes;
 * -1 when unterminated. Sets `quoted.hasEscapes` when an escaped quote was skipped, so the caller unescapes
 * (`\"` and `\\`); other backslash sequences (nginx's `\x16`) are kept as logged. Looks at the backslash
 * before the quote only: scanning the field for backslashes would read every byte twice.
 */
export function quotedEnd(line: string, start: number): number {
  let q = line.indexOf('"', start)
  quoted.hasEscapes = false
  while (q !== -1 && line.charCodeAt(q - 1) === 92) {
    let k = q - 1
    let n = 0
    while (k >= start && line.charCodeAt(k) === 92) {
      n++
      k--
    }
    if ((n & 1) === 0) {
      quoted.hasEscapes = true
      return q
    }
    quoted.hasEscapes = true
    q = line.indexOf('"', q + 1)
  }
  return q
}
