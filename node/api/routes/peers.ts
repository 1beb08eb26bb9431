import { Hono } from 'hono'
import { z } from 'zod'
import { ed25519PeerIdProblem } from '../../../crypto/identity/peer-id.ts'
import { peerGossipScore } from '../../p2p/gossip-scoring.ts'
import type { ShieldwallNode } from '../../shieldwall-node.ts'
import { apiError } from '../errors.ts'
import { doc } from '../openapi/route-doc.ts'
import { jsonBody, pathParams, queryParams } from '../validate.ts'

const PeerParam = z.object({
  id: z
    .string()
    .max(128)
    .superRefine((id, ctx) => {
      const problem = ed25519PeerIdProblem(id)
      if (problem !== undefined)
        ctx.addIssue({ code: 'custom', message: `an Ed25519 peer id (12D3KooW...): ${problem}` })
    }),
})
const PinBody = z.object({ pin: z.enum(['trusted', 'banned']).nullable() }).strict()
// strict: a parameter this route does not have is a 400 naming it, never silently ignored
const ListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(10_000).default(500),
  pinned: z.enum(['true', 'false']).optional(),
})

function gossipScoreOf(node: ShieldwallNode, peerId: string): number | null {
  return peerGossipScore(node.host.services.pubsub, peerId) ?? null
}

/** ids of the peers connected now; built once per request, not once per peer */
function connectedPeers(node: ShieldwallNode): Set<string> {
  return new Set(node.host.getPeers().map((p) => p.toString()))
}

function peerView(node: ShieldwallNode, peerId: string, connected: Set<string>) {
  const rep = node.reputation.get(peerId)
  const base = {
    peerId,
    connected: connected.has(peerId),
    // what gossipsub thinks of the peer right now (our reputation is one term of it)
    gossipScore: gossipScoreOf(node, peerId),
  }
  if (rep === undefined) {
    return { ...base, trust: node.reputation.trust(peerId), known: false }
  }
  return {
    ...base,
    known: true,
    trust: rep.trust,
    expected: rep.expected,
    appScore: rep.gossipScore,
    pinned: rep.pinned ?? null,
    evidence: rep.counts,
    recent: rep.recent.map((e) => ({ ...e, at: new Date(e.at).toISOString() })),
    firstSeen: new Date(rep.firstSeen).toISOString(),
    lastSeen: new Date(rep.lastSeen).toISOString(),
  }
}

/** Peers as this node judges them: trust, the evidence behind it, and admin pins. */
export function peerRoutes(node: ShieldwallNode): Hono {
  return new Hono()
    .get('/', doc({ summary: 'Known and connected peers with their trust' }), queryParams(ListQuery), (c) => {
      const { limit, pinned } = c.req.valid('query')
      const known = node.reputation.list({
        limit,
        ...(pinned !== undefined ? { pinned: pinned === 'true' } : {}),
      })
      const connected = connectedPeers(node)
      const ids = new Set(known.map((p) => p.peerId))
      if (pinned === undefined) for (const id of connected) ids.add(id)
      const items = [...ids].slice(0, limit).map((id) => peerView(node, id, connected))
      items.sort((a, b) => b.trust - a.trust)
      return c.json({ items })
    })
    .get('/:id', doc({ summary: "One peer's trust, evidence and pin" }), pathParams(PeerParam), (c) => {
      const { id } = c.req.valid('param')
      return c.json(peerView(node, id, connectedPeers(node)))
    })
    .put(
      '/:id',
      doc({ summary: 'Pin a peer as trusted or banned, or clear the pin (admin)' }),
      pathParams(PeerParam),
      jsonBody(PinBody),
      async (c) => {
        const { id } = c.req.valid('param')
        const { pin } = c.req.valid('json')
        if (id === node.peerId) throw apiError(400, 'that is this node')
        try {
          await node.reputation.pin(id, pin)
        } catch (err) {
          if ((err as Error).name === 'InvalidPeerIdError') throw apiError(400, (err as Error).message, 'id')
          throw err
        }
        return c.json(peerView(node, id, connectedPeers(node)))
      },
    )
}
