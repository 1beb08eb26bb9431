import { Hono } from 'hono'
import { z } from 'zod'
import { parseIndicator } from '../../../protocol/indicator.ts'
import { EVENT_KINDS, type SecurityEvent } from '../../ingest/event.ts'
import type { ShieldwallNode } from '../../shieldwall-node.ts'
import { jsonBody } from '../validate.ts'

export const MAX_EVENTS_PER_REQUEST = 10_000

const SSH_KINDS = new Set([
  'auth_failure',
  'invalid_user',
  'preauth_disconnect',
  'no_identification',
  'bad_protocol',
  'max_auth_exceeded',
  'auth_success',
])

const ip = z.string().transform((text, ctx) => {
  try {
    const parsed = parseIndicator(text.trim())
    if (parsed.isRange) throw new Error('a single address, not a range')
    return parsed.canonical
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `not an IP address: ${(err as Error).message}` })
    return z.NEVER
  }
})

const time = z
  .union([z.number().int().nonnegative(), z.iso.datetime({ offset: true })])
  .transform((t) => (typeof t === 'number' ? t : Date.parse(t)))

/** One event as a service that pushes (rather than logs) reports it; `service` defaults from `kind`. */
const PushedEvent = z
  .object({
    time: time.optional(),
    ip,
    kind: z.enum(EVENT_KINDS),
    service: z.enum(['ssh', 'http', 'other']).optional(),
    user: z.string().max(256).optional(),
    method: z.string().max(16).optional(),
    path: z.string().max(8192).optional(),
    status: z.number().int().min(100).max(599).optional(),
    bytes: z.number().int().nonnegative().optional(),
    userAgent: z.string().max(1024).optional(),
    referer: z.string().max(8192).optional(),
    count: z.number().int().min(1).max(10_000).optional(),
  })
  .strict()

const EventsBody = z.object({ events: z.array(PushedEvent).min(1).max(MAX_EVENTS_PER_REQUEST) }).strict()

/** `POST /api/events`: structured events from services that push instead of writing logs. */
export function eventRoutes(node: ShieldwallNode): Hono {
  return new Hono().post('/', jsonBody(EventsBody), async (c) => {
    const now = Date.now()
    const events: SecurityEvent[] = c.req.valid('json').events.map((e) => ({
      ...e,
      time: e.time ?? now,
      service: e.service ?? (SSH_KINDS.has(e.kind) ? 'ssh' : e.kind.startsWith('http') ? 'http' : 'other'),
      source: 'api',
    }))
    const decisions = await node.detection.ingest(events)
    return c.json({ accepted: events.length, decisions }, 202)
  })
}
