import { open, stat } from 'node:fs/promises'
import type { SecurityEvent } from '../ingest/event.ts'
import { UNPARSED } from '../ingest/parsers/index.ts'
import { createSourceParser } from '../ingest/source-parser.ts'

export interface ReplayFile {
  path: string
  format: string
}

export interface FileCounts {
  path: string
  format: string
  lines: number
  parsed: number
  unparsed: number
}

/**
 * What a replay does with the events of its files. `seq` numbers the parsed events from 0 across all files;
 * a tick is due after event `seq` (and once more, with `seq` = the number of events, at the end of the data).
 */
export interface ReplaySink {
  event(event: SecurityEvent, seq: number): void
  tick(now: number, seq: number): void
  /**
   * Called after each chunk of a file: a sink that hands the events to other threads returns a promise here to
   * hold the scan while they catch up, so what is in flight between threads stays bounded.
   */
  drain?(): Promise<void> | undefined
}

const CHUNK = 4 * 1024 * 1024
/**
 * Lines are decoded this many bytes at a time (cut at a newline): strings this small are allocated in V8's young
 * generation and die there, where a 4 MB string goes to large-object space and lingers until a full GC.
 */
const DECODE_BYTES = 64 * 1024
const SAMPLE_LINES = 50
/** window detectors are ticked whenever event time moves on by this much */
export const TICK_MS = 1000
/** at the end of the data, time is moved on this far so every window closes */
export const END_OF_DATA_MS = 15 * 60 * 1000

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
 * Reads, splits and parses every line of `files` in order, with time taken from the lines themselves, and hands
 * each event and each due tick to `sink`. The order of these calls is all a detector sees, which is what lets a
 * replay run its detectors on other threads from batches of the same calls (`event-batch.ts`).
 */
export async function scanFiles(files: readonly ReplayFile[], sink: ReplaySink): Promise<FileCounts[]> {
  const perFile: FileCounts[] = []
  let lastTick = 0
  let lastEvent = 0
  let seq = 0
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
      const n = seq++
      sink.event(r, n)
      if (r.time - lastTick >= TICK_MS) {
        lastTick = r.time
        sink.tick(r.time, n)
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
        const backlog = sink.drain?.()
        if (backlog !== undefined) await backlog
      }
    } finally {
      await fh.close()
    }
    perFile.push(counts)
  }
  // close every window still open at the end of the data
  sink.tick(lastEvent + END_OF_DATA_MS, seq)
  return perFile
}
