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
  readonly destroyed: boolean
  destroy(): void
  once(event: 'drain' | 'close', listener: () => void): unknown
  off(event: 'drain' | 'close', listener: () => void): unknown
}

export class StreamStalledError extends Error {
  override name = 'StreamStalledError'
}

/**
 * A response body that is produced as the client reads it. The ReadableStream has no queue of its own
 * (high-water mark 0): `pull` runs only when @hono/node-server asks for the next chunk, which it does only
 * after the previous `write()` returned true or the socket drained. On top of that, when the node:http
 * response is at hand, no chunk is produced while the bytes it holds unsent plus a chunk would pass
 * `bufferBytes`. So one connection never holds more than `bufferBytes` of its answer in the server's memory,
 * however little its client reads; a client that reads nothing is cut off by the gate's stall sweep.
 */
export function pacedStream(
  source: StreamSource,
  lease: StreamLease,
  options: { bufferBytes: number; outgoing?: OutgoingConnection },
): ReadableStream<Uint8Array> {
  const { bufferBytes, outgoing } = options
  const chunkBytes = Math.floor(bufferBytes / 4)
  // characters, so an answer that is not all ASCII still fits its chunk
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

  const roomFor = async (bytes: number): Promise<void> => {
    while (outgoing !== undefined && !outgoing.destroyed && outgoing.writableLength + bytes > bufferBytes) {
      await new Promise<void>((resolve) => {
        const done = () => {
          outgoing.off('drain', done)
          outgoing.off('close', done)
          resolve()
        }
        outgoing.once('drain', done)
        outgoing.once('close', done)
      })
    }
  }

  return new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c
      },
      async pull(c) {
        try {
          await roomFor(chunkBytes)
          if (finished) return
          lease.pulled()
          const text = await source.next(budget)
          if (finished) return
          if (text === undefined) {
            finish()
            c.close()
            return
          }
          if (text.length === 0) {
            // nothing this turn (a filter skipped a run of entries): let other connections and requests in
            await new Promise((resolve) => setImmediate(resolve))
            return
          }
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
