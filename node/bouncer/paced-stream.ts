import type { StreamLease } from './stream-gate.ts'

/** Writes a long answer a piece at a time, each piece only when the client has taken the ones before. */
export interface StreamSource {
  /**
   * The next piece of output, about `budget` characters (one item more at most); '' when nothing was ready in
   * this turn but more may come; undefined once the answer is complete. May wait (a live stream waits for
   * changes).
   */
  next(budget: number): Promise<string | undefined> | string | undefined
  /** The answer is complete, the client went away, or it was cut off. */
  close?(): void
}

/** node:http's response as @hono/node-server hands it to the app (`c.env.outgoing`). */
export interface OutgoingConnection {
  readonly writableLength: number
  readonly writableHighWaterMark: number
  destroy(): void
}

/** The smallest chunk written, whatever the limits say: smaller ones cost more in calls than they save. */
const MIN_CHUNK_BYTES = 4096

export class StreamStalledError extends Error {
  override name = 'StreamStalledError'
}

/**
 * A response body that is produced as the client reads it. The ReadableStream has no queue of its own
 * (high-water mark 0): `pull` runs only when @hono/node-server asks for the next chunk, which it does only
 * after the previous `write()` returned true, i.e. while node:http holds less than its high-water mark unsent,
 * or once the socket drained. Chunks are sized so that this mark plus one chunk is at most `bufferBytes`: one
 * connection never holds more of its answer in the server's memory, however little its client reads, and a
 * client that reads nothing is cut off by the gate's stall sweep.
 */
export function pacedStream(
  source: StreamSource,
  lease: StreamLease,
  options: { bufferBytes: number; outgoing?: OutgoingConnection },
): ReadableStream<Uint8Array> {
  const { bufferBytes, outgoing } = options
  // node:http stops asking for chunks at its high-water mark (64 KiB by default); in-process, half the cap
  const chunkBytes = Math.max(
    MIN_CHUNK_BYTES,
    outgoing !== undefined ? bufferBytes - outgoing.writableHighWaterMark : Math.floor(bufferBytes / 2),
  )
  // characters, so that a chunk that is not all ASCII, or overshoots by one event, still fits
  const budget = Math.floor(chunkBytes / 2)
  const encoder = new TextEncoder()
  let finished = false
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined
  const finish = () => {
    if (finished) return
    finished = true
    lease.release()
    source.close?.()
  }
  lease.attach({
    drop: () => {
      finish()
      if (outgoing !== undefined) outgoing.destroy()
      else controller?.error(new StreamStalledError('the client stopped reading'))
    },
    ...(outgoing !== undefined ? { queued: () => outgoing.writableLength } : {}),
  })

  return new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c
      },
      async pull(c) {
        try {
          if (finished) return
          lease.pulled()
          // a few chunks a turn over all streams, so other requests (/healthz included) are read in between
          await lease.turn()
          if (finished) return
          const text = await source.next(budget)
          if (finished) return
          if (text === undefined) {
            finish()
            c.close()
            return
          }
          // nothing this turn (a filter skipped a run of entries): asked again
          if (text.length === 0) return
          const bytes = encoder.encode(text)
          c.enqueue(bytes)
          lease.handed(bytes.byteLength)
        } catch (err) {
          finish()
          c.error(err)
        }
      },
      cancel() {
        finish()
      },
    },
    { highWaterMark: 0 },
  )
}
