const LF = 0x0a
const CR = 0x0d

/**
 * Turns the bytes of one file, read in chunks at increasing offsets, into complete lines. Memory is bounded by
 * `maxLineBytes`: a line that grows past it is cut there (at a UTF-8 character boundary), emitted, and the rest
 * of it up to its newline is skipped. `safeOffset` is where reading must resume so that no line is lost or
 * repeated: the start of the held partial line, or, while skipping the tail of a cut line, the read position
 * (with `skipping` set, so the tail is skipped again after a restart instead of coming out as a line).
 */
export class LineSplitter {
  readonly #maxLineBytes: number
  /** the held partial line; allocated on first use, never larger than `maxLineBytes` */
  #pending?: Buffer
  #pendingLen = 0
  #skipping = false
  /** file offset of the next byte to be pushed */
  #position = 0
  #safeOffset = 0
  /** lines cut at `maxLineBytes` since construction */
  cutLines = 0

  constructor(maxLineBytes: number) {
    this.#maxLineBytes = maxLineBytes
  }

  get safeOffset(): number {
    return this.#safeOffset
  }

  get skipping(): boolean {
    return this.#skipping
  }

  get position(): number {
    return this.#position
  }

  /** Forgets any held partial line and continues as if reading started at `offset`. */
  reset(offset: number, skipping = false): void {
    this.#pendingLen = 0
    this.#skipping = skipping
    this.#position = offset
    this.#safeOffset = offset
  }

  /** Appends the complete lines in `chunk` (the bytes at `position` onwards) to `out`. */
  push(chunk: Uint8Array, out: string[]): void {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    const len = buf.length
    const start = this.#position
    this.#position += len
    let pos = 0

    if (this.#skipping) {
      const nl = buf.indexOf(LF)
      if (nl === -1) {
        this.#safeOffset = this.#position
        return
      }
      this.#skipping = false
      pos = nl + 1
    }

    if (this.#pendingLen > 0 && pos < len) {
      const nl = buf.indexOf(LF, pos)
      if (nl === -1) {
        this.#hold(buf, pos, len, out)
        this.#safeOffset = this.#skipping ? this.#position : start + len - this.#pendingLen
        return
      }
      out.push(this.#completePending(buf, pos, nl))
      pos = nl + 1
    }

    const last = buf.lastIndexOf(LF)
    if (last >= pos) {
      // One decode and one split per chunk is several times faster than a toString per line.
      const parts = buf.toString('utf8', pos, last).split('\n')
      const maybeLong = this.#maxLineBytes / 3
      for (let i = 0; i < parts.length; i++) {
        let line = parts[i]
        if (line.length > maybeLong && Buffer.byteLength(line) > this.#maxLineBytes)
          line = this.#cutString(line)
        out.push(line.charCodeAt(line.length - 1) === CR ? line.slice(0, -1) : line)
      }
      pos = last + 1
    }

    if (pos < len) this.#hold(buf, pos, len, out)
    this.#safeOffset = this.#skipping ? this.#position : start + len - this.#pendingLen
  }

  /**
   * Emits the held partial line as a line of its own: for a rotated file that nobody writes to any more, whose
   * unterminated last line would otherwise be lost.
   */
  flush(out: string[]): void {
    if (this.#pendingLen > 0) out.push(decodeLine(this.#pending!, 0, this.#pendingLen))
    this.#pendingLen = 0
    this.#skipping = false
    this.#safeOffset = this.#position
  }

  #hold(buf: Buffer, from: number, to: number, out: string[]): void {
    const n = to - from
    const room = this.#maxLineBytes - this.#pendingLen
    this.#pending ??= Buffer.allocUnsafe(this.#maxLineBytes)
    if (n <= room) {
      buf.copy(this.#pending, this.#pendingLen, from, to)
      this.#pendingLen += n
      return
    }
    // Past the limit with no newline in sight: emit the cut line now, skip the rest until its newline.
    buf.copy(this.#pending, this.#pendingLen, from, from + room)
    out.push(decodeLine(this.#pending, 0, utf8Boundary(this.#pending, this.#maxLineBytes)))
    this.cutLines++
    this.#pendingLen = 0
    this.#skipping = true
  }

  #completePending(buf: Buffer, from: number, nl: number): string {
    const n = nl - from
    const pending = this.#pending!
    const total = this.#pendingLen + n
    this.#pendingLen = 0
    if (total <= this.#maxLineBytes) {
      buf.copy(pending, total - n, from, nl)
      return decodeLine(pending, 0, total)
    }
    const room = this.#maxLineBytes - (total - n)
    buf.copy(pending, total - n, from, from + room)
    this.cutLines++
    return decodeLine(pending, 0, utf8Boundary(pending, this.#maxLineBytes))
  }

  #cutString(line: string): string {
    this.cutLines++
    const bytes = Buffer.from(line, 'utf8')
    return bytes.toString('utf8', 0, utf8Boundary(bytes, this.#maxLineBytes))
  }
}

function decodeLine(buf: Buffer, from: number, to: number): string {
  if (to > from && buf[to - 1] === CR) to--
  return buf.toString('utf8', from, to)
}

/** `end`, or less so that the bytes before it do not end in the middle of a UTF-8 sequence. */
function utf8Boundary(buf: Buffer, end: number): number {
  const stop = Math.max(0, end - 4)
  let i = end - 1
  while (i >= stop && (buf[i] & 0xc0) === 0x80) i--
  if (i < stop) return end // not UTF-8 anyway; the decoder substitutes U+FFFD
  const b = buf[i]
  const need = b < 0x80 ? 1 : (b & 0xe0) === 0xc0 ? 2 : (b & 0xf0) === 0xe0 ? 3 : (b & 0xf8) === 0xf0 ? 4 : 1
  return i + need > end ? i : end
}
