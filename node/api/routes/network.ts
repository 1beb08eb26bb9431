import { Hono } from 'hono'
import { z } from 'zod'
import { multiaddr } from '@multiformats/multiaddr'
import { parseIndicator } from '../../../protocol/indicator.ts'
import { SCENARIO_PATTERN, SEVERITIES } from '../../../protocol/messages/alert.ts'
import type { StoredAlert } from '../../alerts/alert-store.ts'
import type { ShieldwallNode } from '../../shieldwall-node.ts'
import { apiError } from '../errors.ts'
import { jsonBody, queryParams } from '../validate.ts'

const indicatorField = z.string().transform((text, ctx) => {
  try {
    return parseIndicator(text.trim()).canonical
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `not an IPv4/IPv6 address or CIDR: ${(err as Error).message}` })
    return z.NEVER
  }
})

const PublishAlertBody = z
  .object({
    indicator: indicatorField,
    scenario: z.string().regex(SCENARIO_PATTERN, 'lowercase letters, digits and . _ : / -, at most 64'),
    severity: z.enum(SEVERITIES).optional(),
    confidence: z.number().min(0).max(1).optional(),
    ttlSeconds: z.number().int().min(1).optional(),
  })
  .strict()

const ThreatsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
})

const JoinBody = z.object({ multiaddr: z.string().min(1).max(1024) }).strict()

/** The API's view of an alert: times as ISO strings, the reporter as a peer id, the signature re-checked. */
function threatView(node: ShieldwallNode, a: StoredAlert) {
  return {
    id: a.id,
    indicator: a.indicator,
    scenario: a.scenario,
    severity: a.severity,
    confidence: a.confidence,
    events: a.events,
    windowSeconds: a.windowSeconds,
    firstSeen: new Date(a.firstSeen).toISOString(),
    lastSeen: new Date(a.lastSeen).toISOString(),
    reporter: node.peerIdOfSender(a.sender),
    local: a.origin === 'local',
    origin: a.origin,
    verified: node.verifyStoredAlert(a),
    seq: a.seq,
    createdAt: new Date(a.createdAt).toISOString(),
    expiresAt: new Date(a.expiresAt).toISOString(),
    receivedAt: new Date(a.receivedAt).toISOString(),
  }
}

export function networkRoutes(node: ShieldwallNode): Hono {
  return new Hono()
    .get('/status', async (c) => c.json(await node.status()))
    .post('/alert', jsonBody(PublishAlertBody), async (c) => {
      const input = c.req.valid('json')
      const maxTtl = node.config.alerts.maxTtlSeconds
      if (input.ttlSeconds !== undefined && input.ttlSeconds > maxTtl) {
        throw apiError(400, `field "ttlSeconds": at most ${maxTtl}`, 'ttlSeconds')
      }
      const alert = await node.alerts.publish(input)
      return c.json(threatView(node, alert), 201)
    })
    .get('/threats', queryParams(ThreatsQuery), async (c) => {
      const { limit, cursor } = c.req.valid('query')
      const page = await node.alertStore.list({ limit, cursor })
      return c.json({
        items: page.items.map((a) => threatView(node, a)),
        nextCursor: page.nextCursor ?? null,
      })
    })
    .post('/join', jsonBody(JoinBody), async (c) => {
      const { multiaddr: text } = c.req.valid('json')
      let ma
      try {
        ma = multiaddr(text)
      } catch (err) {
        throw apiError(400, `field "multiaddr": not a multiaddr: ${(err as Error).message}`, 'multiaddr')
      }
      const peerId = ma.getComponents().findLast((component) => component.name === 'p2p')?.value
      if (peerId === undefined) {
        throw apiError(400, 'field "multiaddr": must end with /p2p/<peerId>', 'multiaddr')
      }
      if (peerId === node.peerId) throw apiError(400, 'field "multiaddr": that is this node', 'multiaddr')
      try {
        await node.dial(ma)
      } catch (err) {
        throw apiError(502, `could not connect to ${text}: ${(err as Error).message}`)
      }
      return c.json({ peerId, connected: true })
    })
}
