import { Hono } from 'hono'
import { z } from 'zod'
import type { ShieldwallNode } from '../../shieldwall-node.ts'
import { queryParams } from '../validate.ts'

// strict: a filter this route does not have (`?ip=`) is a 400, not an unfiltered answer that looks filtered
const DecisionsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(200).optional(),
  active: z.enum(['true', 'false']).optional(),
})

/** This node's own decisions with their reasons, newest first. */
export function decisionRoutes(node: ShieldwallNode): Hono {
  return new Hono().get('/', queryParams(DecisionsQuery), async (c) => {
    const { limit, cursor, active } = c.req.valid('query')
    const page = await node.decisions.list({
      limit,
      cursor,
      ...(active === 'true' ? { activeAt: Date.now() } : {}),
    })
    const iso = (t: number) => new Date(t).toISOString()
    return c.json({
      items: page.items.map((d) => ({
        ...d,
        first: iso(d.first),
        last: iso(d.last),
        decidedAt: iso(d.decidedAt),
        expiresAt: iso(d.expiresAt),
      })),
      nextCursor: page.nextCursor ?? null,
    })
  })
}
