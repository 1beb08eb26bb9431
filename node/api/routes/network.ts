import { Hono } from 'hono'
import { z } from 'zod'
import { multiaddr } from '@multiformats/multiaddr'
import { ed25519PeerIdProblem } from '../../../crypto/identity/peer-id.ts'
import { parseIndicator } from '../../../protocol/indicator.ts'
import { SCENARIO_PATTERN, SEVERITIES } from '../../../protocol/messages/alert.ts'
import type { StoredAlert } from '../../alerts/alert-store.ts'
import type { ShieldwallNode } from '../../shieldwall-node.ts'
import { apiError } from '../errors.ts'
import { toCef } from '../../integrations/cef.ts'
import { stixBundle } from '../../integrations/stix.ts'
import { doc } from '../openapi/route-doc.ts'
import { expiryView } from './blocklist.ts'
import { jsonBody, pathParams, queryParams } from '../validate.ts'

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

// strict: a filter this route does not have (`?ip=`) is a 400, not an unfiltered answer that looks filtered
const ThreatsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
  /** json (default), a STIX 2.1 bundle of Indicators, or CEF lines for syslog-based SIEMs */
  format: z.enum(['json', 'stix', 'cef']).default('json'),
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
    // what this node made of it: the blocklist entry covering the address now, if any
    decision: decisionFor(node, a.indicator),
    reporterTrust: a.origin === 'local' ? null : node.reputation.trust(node.peerIdOfSender(a.sender)),
  }
}

function decisionFor(node: ShieldwallNode, indicator: string) {
  const entry = node.blocklist.get(indicator) ?? node.blocklist.lookup(indicator.split('/')[0])[0]
  if (entry === undefined) return null
  return {
    blocked: true,
    value: entry.value,
    origin: entry.origin,
    score: entry.score,
    scenario: entry.scenario,
    reporters: entry.reporters,
    expiresAt: expiryView(entry.expiresAt),
  }
}

const ThreatParam = z.object({ id: z.string().regex(/^[0-9a-f]{32}$/, '32 hex digits (an alert id)') })
const VerdictBody = z.object({ verdict: z.enum(['false', 'confirmed']) }).strict()

export function networkRoutes(node: ShieldwallNode): Hono {
  return new Hono()
    .get('/status', async (c) => c.json(await node.status()))
    .post('/alert', jsonBody(PublishAlertBody), async (c) => {
      const input = c.req.valid('json')
      const maxTtl = node.config.alerts.maxTtlSeconds
      if (input.ttlSeconds !== undefined && input.ttlSeconds > maxTtl) {
        throw apiError(400, `field "ttlSeconds": at most ${maxTtl}`, 'ttlSeconds')
      }
      // What this node would never block itself it never signs for the network: a private or special-use
      // address says nothing to peers, and one on our allowlist would leak the allowlist.
      const why = node.blocklist.allowlist.unshareable(input.indicator)
      if (why !== undefined) {
        const what =
          why.reason === 'allowlisted'
            ? `is on this node's allowlist (${why.entry.cidr}: ${why.entry.note})`
            : why.reason === 'too-broad'
              ? `is ${why.entry.note}: no peer weighs a range that broad`
              : `is non-routable (${why.entry.cidr}: ${why.entry.note})`
        throw apiError(
          400,
          `field "indicator": ${input.indicator} ${what}; alerts about it are never published`,
          'indicator',
        )
      }
      const alert = await node.alerts.publish(input)
      return c.json(threatView(node, alert), 201)
    })
    .get(
      '/threats',
      doc({ summary: 'Alerts, newest first, with what this node decided about each' }),
      queryParams(ThreatsQuery),
      async (c) => {
        const { limit, cursor, format } = c.req.valid('query')
        const page = await node.alertStore.list({ limit, cursor })
        if (format === 'stix') {
          const threats = page.items.map((a) => ({
            id: a.id,
            indicator: a.indicator,
            scenario: a.scenario,
            confidence: a.confidence,
            severity: a.severity,
            createdAt: a.createdAt,
            expiresAt: a.expiresAt,
            reporter: node.peerIdOfSender(a.sender),
          }))
          if (page.nextCursor !== undefined) c.header('X-Next-Cursor', page.nextCursor)
          return c.json(stixBundle(node.peerId, threats, Date.now()))
        }
        if (format === 'cef') {
          const lines = page.items.map((a) =>
            toCef({
              scenario: a.scenario,
              indicator: a.indicator,
              confidence: a.confidence,
              severity: a.severity,
              time: a.createdAt,
              reporter: node.peerIdOfSender(a.sender),
              action: node.blocklist.lookup(a.indicator.split('/')[0]).length > 0 ? 'block' : 'alert',
            }),
          )
          if (page.nextCursor !== undefined) c.header('X-Next-Cursor', page.nextCursor)
          return c.body(lines.join('\n') + (lines.length > 0 ? '\n' : ''), 200, {
            'content-type': 'text/plain; charset=utf-8',
          })
        }
        return c.json({
          items: page.items.map((a) => threatView(node, a)),
          nextCursor: page.nextCursor ?? null,
        })
      },
    )
    .post(
      '/threats/:id/verdict',
      doc({ summary: "Mark a peer's alert false or confirmed; its reporter's trust follows (admin)" }),
      pathParams(ThreatParam),
      jsonBody(VerdictBody),
      async (c) => {
        const { id } = c.req.valid('param')
        const { verdict } = c.req.valid('json')
        const alert = await node.alertStore.get(id)
        if (alert === undefined) throw apiError(404, `no alert ${id}`)
        if (alert.origin === 'local') throw apiError(400, "that alert is this node's own")
        const recorded = node.defense.markAlert(alert, verdict)
        const reporter = node.peerIdOfSender(alert.sender)
        return c.json({
          id,
          verdict,
          recorded,
          reporter,
          reporterTrust: node.reputation.trust(reporter),
          ...(recorded ? {} : { note: 'a verdict on this alert was already recorded' }),
        })
      },
    )
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
      // the check of p2p.bootstrap and the peers route: no shieldwall node has any other kind of id
      const problem = ed25519PeerIdProblem(peerId)
      if (problem !== undefined)
        throw apiError(
          400,
          `field "multiaddr": not an Ed25519 peer id (12D3KooW...): ${problem}`,
          'multiaddr',
        )
      try {
        await node.dial(ma)
      } catch (err) {
        throw apiError(502, `could not connect to ${text}: ${(err as Error).message}`)
      }
      return c.json({ peerId, connected: true })
    })
}
