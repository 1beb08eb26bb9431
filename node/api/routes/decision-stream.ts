import { Hono, type Context } from 'hono'
import type { HTTPException } from 'hono/http-exception'
import { z } from 'zod'
import type { BlockEntry } from '../../blocklist/block-entry.ts'
import type { BouncerService } from '../../bouncer/bouncer-service.ts'
import type { ChangeJournal, JournalRecord } from '../../bouncer/change-journal.ts'
import type { SnapshotCache } from '../../bouncer/decision-snapshot.ts'
import { pacedStream, type OutgoingConnection, type StreamSource } from '../../bouncer/paced-stream.ts'
import { isRefusal, type StreamGate, type StreamRefusal } from '../../bouncer/stream-gate.ts'
import { apiError } from '../errors.ts'
import { queryParams } from '../validate.ts'
import { entryView } from './blocklist.ts'

export interface DecisionStreamOptions {
  /** a `heartbeat` event after this long without one, so proxies keep the connection and clients see it live */
  heartbeatMs: number
}

export const DEFAULT_HEARTBEAT_MS = 15_000

/** Journal records taken per look, so one busy stream does not hold the others up. */
const BATCH = 500

/** Seconds a refused client is told to wait before it tries again. */
export const STREAM_RETRY_AFTER_SECONDS = 10

const StreamQuery = z.object({ snapshot: z.enum(['true', 'false']).optional() })

const SSE_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  // so @hono/node-server sends the headers at once instead of reading ahead to size the body
  'transfer-encoding': 'chunked',
}

function sse(event: string, data: string, id?: string): string {
  return `event: ${event}\ndata: ${data}\n${id !== undefined ? `id: ${id}\n` : ''}\n`
}

/** A snapshot entry as an event; shared by every stream reading the same snapshot (`SnapshotRead.rendered`). */
function addedEvent(entry: BlockEntry): string {
  return sse('added', JSON.stringify(entryView(entry)))
}

function recordData(record: JournalRecord): string {
  const { change } = record
  return JSON.stringify(
    change.kind === 'added'
      ? entryView(change.entry)
      : { ...entryView(change.entry), removal: change.reason },
  )
}

/** `<epoch>.<seq>`; anything else (or another epoch) cannot be resumed. */
function parseEventId(text: string | undefined, epoch: string): number | undefined {
  if (text === undefined) return undefined
  const dot = text.lastIndexOf('.')
  if (dot < 0 || text.slice(0, dot) !== epoch) return undefined
  const seq = Number(text.slice(dot + 1))
  return Number.isSafeInteger(seq) && seq >= 0 ? seq : undefined
}

/** The message of a 429 for a stream the gate refused. */
function refusalMessage(refusal: StreamRefusal): string {
  return refusal.reason === 'token'
    ? `too many open streams for this token (at most ${refusal.limit}); close one or retry later`
    : `too many open streams on this node (at most ${refusal.limit}); retry later`
}

/** node:http's response when the app is served by @hono/node-server; undefined in-process (app.request). */
function outgoingOf(c: Context): OutgoingConnection | undefined {
  return (c.env as { outgoing?: OutgoingConnection } | undefined)?.outgoing
}

/** The API token's name a control-API request was let in with (set by the token middleware), else 'anonymous'. */
export function tokenOf(c: Context): string {
  const token = (c.get as (key: string) => unknown)('tokenName')
  return typeof token === 'string' ? token : 'anonymous'
}

/**
 * A long answer for `token` written as the client reads it (`pacedStream`) within the gate's limits, or the
 * 429 with Retry-After that `error` (the control API's or LAPI's error shape) makes of the gate's refusal.
 * Every streamed answer (SSE, LAPI, blocklist pages and exports) is admitted and paced by this one function.
 */
export function pacedResponse(
  c: Context,
  gate: StreamGate,
  admission: { token: string; kind: string; error: (status: 429, message: string) => HTTPException },
  source: () => StreamSource,
  headers: Record<string, string>,
): Response {
  const lease = gate.acquire(admission.token, admission.kind)
  if (isRefusal(lease)) {
    const err = admission.error(429, refusalMessage(lease))
    err.res?.headers.set('retry-after', String(STREAM_RETRY_AFTER_SECONDS))
    throw err
  }
  const outgoing = outgoingOf(c)
  const body = pacedStream(source(), lease, {
    bufferBytes: gate.limits.bufferBytes,
    ...(outgoing !== undefined ? { outgoing } : {}),
  })
  return c.body(body, 200, headers)
}

const WAIT = Symbol('wait')
type Wake = 'change' | 'timeout'

/**
 * One client's events: an optional reset, the snapshot (read from the shared one as the client takes it),
 * `synced`, then the journal from there on, with heartbeats while nothing happens.
 */
class SseSource implements StreamSource {
  readonly #heartbeatMs: number
  readonly #events: Generator<string | typeof WAIT, void, Wake | undefined>
  readonly #off: () => void
  #changed = false
  #parked = false
  #closed = false
  #wake: ((why: Wake) => void) | undefined
  #timer: NodeJS.Timeout | undefined

  constructor(
    journal: ChangeJournal,
    snapshots: SnapshotCache,
    size: () => number,
    clock: () => number,
    options: { snapshot: boolean; lastEventId: string | undefined; heartbeatMs: number },
  ) {
    this.#heartbeatMs = options.heartbeatMs
    this.#off = journal.onAppend(() => {
      this.#changed = true
      this.#wake?.('change')
    })
    this.#events = events(journal, snapshots, size, clock, options)
  }

  async next(budget: number): Promise<string | undefined> {
    let out = ''
    let input: Wake | undefined
    if (this.#parked) {
      this.#parked = false
      input = await this.#wait()
    }
    while (!this.#closed) {
      const step = this.#events.next(input)
      input = undefined
      if (step.done === true) return out.length > 0 ? out : undefined
      if (step.value === WAIT) {
        if (out.length > 0) {
          // hand over what is ready; the wait comes when the client asks for more
          this.#parked = true
          return out
        }
        input = await this.#wait()
        continue
      }
      out += step.value
      if (out.length >= budget) return out
    }
    return undefined
  }

  #wait(): Promise<Wake> {
    if (this.#changed) {
      this.#changed = false
      return Promise.resolve('change')
    }
    return new Promise<Wake>((resolve) => {
      const done = (why: Wake) => {
        clearTimeout(this.#timer)
        this.#wake = undefined
        this.#changed = false
        resolve(why)
      }
      this.#wake = done
      this.#timer = setTimeout(() => done('timeout'), this.#heartbeatMs)
    })
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#off()
    this.#wake?.('change')
    clearTimeout(this.#timer)
  }
}

function* events(
  journal: ChangeJournal,
  snapshots: SnapshotCache,
  size: () => number,
  clock: () => number,
  options: { snapshot: boolean; lastEventId: string | undefined },
): Generator<string | typeof WAIT, void, Wake | undefined> {
  const epoch = journal.epoch
  const { snapshot, lastEventId } = options

  function* resync(reason: string | undefined): Generator<string, number> {
    if (reason !== undefined) yield sse('reset', JSON.stringify({ reason }))
    let head = journal.head
    if (snapshot) {
      // The shared snapshot and the few changes after it, up to `head`; changes made while the client reads
      // follow as events from there (applying an `added` or `removed` twice is harmless).
      const read = snapshots.read()
      head = read.head
      yield* read.rendered(clock(), addedEvent)
    }
    yield sse('synced', JSON.stringify({ epoch, seq: head, snapshot, size: size() }), `${epoch}.${head}`)
    return head
  }

  let cursor: number
  const resumeAt = parseEventId(lastEventId, epoch)
  if (resumeAt !== undefined && journal.since(resumeAt, 0) !== undefined) {
    cursor = resumeAt
  } else {
    cursor = yield* resync(
      lastEventId === undefined
        ? undefined
        : resumeAt === undefined
          ? 'unknown event id (from before a node restart?)'
          : 'missed changes are no longer held',
    )
  }
  for (;;) {
    const records = journal.since(cursor, BATCH)
    if (records === undefined) {
      cursor = yield* resync('fell behind: missed changes are no longer held')
      continue
    }
    if (records.length > 0) {
      for (const record of records) {
        yield sse(record.change.kind, recordData(record), `${epoch}.${record.seq}`)
        cursor = record.seq
      }
      continue
    }
    const why = yield WAIT
    if (why === 'timeout') {
      yield sse('heartbeat', JSON.stringify({ time: new Date(clock()).toISOString(), seq: cursor }))
    }
  }
}

/**
 * Blocklist changes as server-sent events, for enforcers that are not CrowdSec bouncers (a sidecar updating
 * nftables sets, a dashboard). `?snapshot=true` first sends every active entry as `added`, then `synced`; after
 * that each change is an `added` or `removed` event whose id is `<epoch>.<seq>`. A client reconnecting with
 * `Last-Event-ID` gets exactly what it missed while the journal still holds it, else a `reset` event (and the
 * snapshot again, if it asked for one) so it knows to rebuild.
 *
 * Events are produced as the client reads them, from the snapshot all streams share, and only while the
 * connection holds less than `api.streams.bufferBytes` unsent; a client that leaves its output unread for
 * `api.streams.stallSeconds` is disconnected, and streams beyond `api.streams.maxPerToken` (per token) or
 * `maxTotal` (in all) are refused with 429.
 */
export function decisionStreamRoutes(
  bouncers: BouncerService,
  options: Partial<DecisionStreamOptions> = {},
): Hono {
  const heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS
  const { journal, blocklist, feed, streams } = bouncers

  return new Hono().get('/', queryParams(StreamQuery), (c) => {
    // Hono answers HEAD with the GET handler's headers and drops the body: no stream to hold a slot for.
    if (c.req.method === 'HEAD') return c.body(null, 200, { 'content-type': SSE_HEADERS['content-type'] })
    const snapshot = c.req.valid('query').snapshot === 'true'
    const lastEventId = c.req.header('last-event-id')
    return pacedResponse(
      c,
      streams,
      { token: tokenOf(c), kind: 'sse', error: apiError },
      () =>
        new SseSource(
          journal,
          feed.snapshots,
          () => blocklist.size,
          () => streams.now(),
          { snapshot, lastEventId, heartbeatMs },
        ),
      SSE_HEADERS,
    )
  })
}
