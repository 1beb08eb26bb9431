import { open, stat } from 'node:fs/promises'
import { UNPARSED } from '../ingest/parsers/index.ts'
import { createSourceParser } from '../ingest/source-parser.ts'
import type { DetectionEngine } from './detection-engine.ts'
import type { Decision } from './ensemble.ts'

export interface ReplayFile {
  path: string
  format: string
}

export interface ReplayDecision {
  ip: string
  scenario: string
  events: number
  first: string
  last: string
  confidence: number
  reasons: string[]
  detectors: string[]
  offence: number
  durationSeconds: number
}

export interface ReplayResult {
  lines: number
  parsed: number
  unparsed: number
  seconds: number
  linesPerSecond: number
  decisions: ReplayDecision[]
  files: { path: string; format: string; lines: number; parsed: number; unparsed: number }[]
}

const CHUNK = 4 * 1024 * 1024
/**
 * Lines are decoded this many bytes at a time (cut at a newline): strings this small are allocated in V8's young
 * generation and die there, where a 4 MB string goes to large-object space and lingers until a full GC.
 */
const DECODE_BYTES = 64 * 1024
const SAMPLE_LINES = 50
/** window detectors are ticked whenever event time moves on by this much */
const TICK_MS = 1000
/** at the end of the data, time is moved on this far so every window closes */
const END_OF_DATA_MS = 15 * 60 * 1000

/** Decodes buf[start, end) a slice at a time, each slice ending at a newline (or `end`), and handles its lines. */
function forEachLineIn(buf: Buffer, start: number, end: number, handle: (line: string) => void): void {
  while (start < end) {
    let stop = end
    if (end - start > DECODE_BYTES) {
      // a newline byte never occurs inside a UTF-8 sequence, so decoding per slice gives the same text
      const nl = buf.indexOf(0x0a, start + DECODE_BYTES)
      if (nl !== -1 && nl < end) stop = nl + 1
    }
    forEachLine(buf.toString('utf8', start, stop), handle)
    start = stop
  }
}

function forEachLine(text: string, handle: (line: string) => void): void {
  let start = 0
  for (;;) {
    const nl = text.indexOf('\n', start)
    const stop = nl === -1 ? text.length : nl
    let line = text.slice(start, stop)
    if (line.length > 0 && line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1)
    if (line.length > 0) handle(line)
    if (nl === -1) return
    start = nl + 1
  }
}

export function decisionView(d: Decision): ReplayDecision {
  return {
    ip: d.ip,
    scenario: d.scenario,
    events: d.events,
    first: new Date(d.first).toISOString(),
    last: new Date(d.last).toISOString(),
    confidence: d.confidence,
    reasons: d.reasons,
    detectors: d.detectors,
    offence: d.offence,
    durationSeconds: d.durationSeconds,
  }
}

async function readSample(path: string): Promise<string[]> {
  const fh = await open(path, 'r')
  try {
    const buf = Buffer.alloc(64 * 1024)
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0)
    return buf
      .subarray(0, bytesRead)
      .toString('utf8')
      .split('\n')
      .slice(0, SAMPLE_LINES)
      .filter((l) => l.length > 0)
  } finally {
    await fh.close()
  }
}

/**
 * `shieldwall detect`: the live parsers and detectors over whole files, with time taken from the lines
 * themselves (like `fail2ban-regex` and CrowdSec's replay mode), so an operator can tune before enabling bans.
 */
export async function replayFiles(
  files: readonly ReplayFile[],
  engine: DetectionEngine,
): Promise<ReplayResult> {
  const started = process.hrtime.bigint()
  const decisions: Decision[] = []
  const perFile: ReplayResult['files'] = []
  let lastTick = 0
  let lastEvent = 0
  for (const file of files) {
    const info = await stat(file.path)
    const parser = createSourceParser(file.format, await readSample(file.path), {
      reference: info.mtimeMs,
      source: file.path,
    })
    const counts = { path: file.path, format: parser.format, lines: 0, parsed: 0, unparsed: 0 }
    const fh = await open(file.path, 'r')
    const buf = Buffer.allocUnsafe(CHUNK)
    let carry = 0
    const handle = (line: string) => {
      counts.lines++
      const r = parser.parse(line)
      if (r === UNPARSED) {
        counts.unparsed++
        return
      }
      if (r === undefined) return
      counts.parsed++
      if (r.time > lastEvent) lastEvent = r.time
      const d = engine.observe(r)
      if (d !== undefined) decisions.push(d)
      if (r.time - lastTick >= TICK_MS) {
        lastTick = r.time
        for (const t of engine.tick(r.time)) decisions.push(t)
      }
    }
    try {
      for (;;) {
        const { bytesRead } = await fh.read(buf, carry, CHUNK - carry, null)
        const end = carry + bytesRead
        if (bytesRead === 0) {
          if (end > 0) forEachLineIn(buf, 0, end, handle)
          break
        }
        // Decode up to the last newline (lines are slices of a few strings per chunk); the unfinished tail moves
        // to the front of the buffer for the next read.
        let cut = buf.lastIndexOf(0x0a, end - 1)
        if (cut === -1) {
          if (end < CHUNK) {
            carry = end
            continue
          }
          cut = end - 1 // a line longer than the buffer is cut rather than buffered without bound
        }
        forEachLineIn(buf, 0, cut, handle)
        carry = end - cut - 1
        buf.copy(buf, 0, cut + 1, end)
      }
    } finally {
      await fh.close()
    }
    perFile.push(counts)
  }
  // close every window still open at the end of the data
  for (const d of engine.tick(lastEvent + END_OF_DATA_MS)) decisions.push(d)
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  const lines = perFile.reduce((n, f) => n + f.lines, 0)
  return {
    lines,
    parsed: perFile.reduce((n, f) => n + f.parsed, 0),
    unparsed: perFile.reduce((n, f) => n + f.unparsed, 0),
    seconds: Math.round(seconds * 1000) / 1000,
    linesPerSecond: Math.round(lines / Math.max(seconds, 1e-9)),
    decisions: decisions.map(decisionView),
    files: perFile,
  }
}
