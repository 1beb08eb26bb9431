import { Hono } from 'hono'
import { streamSSE, type SSEStreamingApi } from 'hono/streaming'
import { z } from 'zod'
import type { BouncerService } from '../../bouncer/bouncer-service.ts'
import type { JournalRecord } from '../../bouncer/change-journal.ts'
import { queryParams } from '../validate.ts'
import { entryView } from './blocklist.ts'

export interface DecisionStreamOptions {
  /** a `heartbeat` event after this long without one, so proxies keep the connection and clients see it live */
  heartbeatMs: number
}

export const DEFAULT_HEARTBEAT_MS = 15_000

/** Records written per wake-up before yielding to other connections. */
const BATCH = 500

const StreamQuery = z.object({ snapshot: z.enum(['true', 'false']).optional() })

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

/**
 * Blocklist changes as server-sent events, for enforcers that are not CrowdSec bouncers (a sidecar updating
 * nftables sets, a dashboard). `?snapshot=true` first sends every active entry as `added`, then `synced`; after
 * that each change is an `added` or `removed` event whose id is `<epoch>.<seq>`. A client reconnecting with
 * `Last-Event-ID` gets exactly what it missed while the journal still holds it, else a `reset` event (and the
 * snapshot again, if it asked for one) so it knows to rebuild.
 */
export function decisionStreamRoutes(
  bouncers: BouncerService,
  options: Partial<DecisionStreamOptions> = {},
): Hono {
  const heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS
  const { journal, blocklist } = bouncers

  const sendSnapshot = async (stream: SSEStreamingApi): Promise<void> => {
    // Entries are taken up front: the list may change while a slow client reads.
    for (const entry of [...blocklist.entries()]) {
      if (stream.aborted) return
      await stream.writeSSE({ event: 'added', data: JSON.stringify(entryView(entry)) })
    }
  }

  return new Hono().get('/', queryParams(StreamQuery), (c) => {
    const snapshot = c.req.valid('query').snapshot === 'true'
    const lastEventId = c.req.header('last-event-id')
    return streamSSE(c, async (stream) => {
      const epoch = journal.epoch
      let wake: ((why: 'change' | 'timeout') => void) | undefined
      const off = journal.onAppend(() => wake?.('change'))
      stream.onAbort(() => wake?.('change'))
      let timer: NodeJS.Timeout | undefined

      const resync = async (reason: string | undefined): Promise<number> => {
        if (reason !== undefined) await stream.writeSSE({ event: 'reset', data: JSON.stringify({ reason }) })
        // Changes made while the snapshot is written follow it as events, from this head on (applying an
        // `added` or `removed` twice is harmless).
        const head = journal.head
        if (snapshot) await sendSnapshot(stream)
        await stream.writeSSE({
          event: 'synced',
          id: `${epoch}.${head}`,
          data: JSON.stringify({ epoch, seq: head, snapshot, size: blocklist.size }),
        })
        return head
      }

      try {
        let cursor: number
        const resumeAt = parseEventId(lastEventId, epoch)
        if (resumeAt !== undefined && journal.since(resumeAt, 0) !== undefined) {
          cursor = resumeAt
        } else {
          cursor = await resync(
            lastEventId === undefined
              ? undefined
              : resumeAt === undefined
                ? 'unknown event id (from before a node restart?)'
                : 'missed changes are no longer held',
          )
        }
        while (!stream.aborted && !stream.closed) {
          const records = journal.since(cursor, BATCH)
          if (records === undefined) {
            cursor = await resync('fell behind: missed changes are no longer held')
            continue
          }
          if (records.length > 0) {
            for (const record of records) {
              await stream.writeSSE({
                event: record.change.kind,
                id: `${epoch}.${record.seq}`,
                data: recordData(record),
              })
              cursor = record.seq
            }
            continue
          }
          const why = await new Promise<'change' | 'timeout'>((resolve) => {
            wake = resolve
            timer = setTimeout(() => resolve('timeout'), heartbeatMs)
          })
          clearTimeout(timer)
          wake = undefined
          if (why === 'timeout' && !stream.aborted) {
            await stream.writeSSE({
              event: 'heartbeat',
              data: JSON.stringify({ time: new Date().toISOString(), seq: cursor }),
            })
          }
        }
      } finally {
        off()
        clearTimeout(timer)
      }
    })
  })
}
