import { Hono } from 'hono'
import { z } from 'zod'
import { WEBHOOK_EVENTS } from '../../integrations/webhooks.ts'
import type { ShieldwallNode } from '../../shieldwall-node.ts'
import { apiError } from '../errors.ts'
import { doc } from '../openapi/route-doc.ts'
import { jsonBody, pathParams, queryParams } from '../validate.ts'

const CreateWebhook = z
  .object({
    url: z.url({ protocol: /^https?$/, error: 'an http(s) URL' }).max(2048),
    events: z.array(z.enum(WEBHOOK_EVENTS)).min(1).default(['decision.added']),
    description: z.string().max(200).optional(),
    /** bring your own HMAC key (at least 16 characters), else one is generated and shown once */
    secret: z.string().min(16).max(256).optional(),
  })
  .strict()
const HookParam = z.object({ id: z.string().regex(/^[0-9a-f]{16}$/, 'a webhook id') })
const DeliveriesQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) })

function notFound(err: unknown): never {
  if ((err as Error).name === 'WebhookNotFoundError') throw apiError(404, (err as Error).message)
  throw err
}

/** Webhooks for SIEMs and chat: signed (HMAC-SHA256 over the body, header X-Shieldwall-Signature), retried. */
export function webhookRoutes(node: ShieldwallNode): Hono {
  const hide = <T extends { secret: string }>(h: T) => ({ ...h, secret: undefined })
  return new Hono()
    .get('/', doc({ summary: 'Registered webhooks' }), (c) =>
      c.json({ items: node.webhooks.list().map(hide) }),
    )
    .post(
      '/',
      doc({ summary: 'Register a webhook; the signing secret is shown only in this answer (admin)' }),
      jsonBody(CreateWebhook),
      async (c) => {
        try {
          return c.json(await node.webhooks.add(c.req.valid('json')), 201)
        } catch (err) {
          if ((err as Error).name === 'TooManyWebhooksError') throw apiError(409, (err as Error).message)
          throw err
        }
      },
    )
    .get(
      '/:id/deliveries',
      doc({ summary: "A webhook's delivery log, newest first" }),
      pathParams(HookParam),
      queryParams(DeliveriesQuery),
      async (c) => {
        const { id } = c.req.valid('param')
        try {
          node.webhooks.get(id)
        } catch (err) {
          notFound(err)
        }
        return c.json({
          items: await node.webhooks.deliveries({ webhookId: id, limit: c.req.valid('query').limit }),
        })
      },
    )
    .delete('/:id', doc({ summary: 'Remove a webhook (admin)' }), pathParams(HookParam), async (c) => {
      try {
        await node.webhooks.remove(c.req.valid('param').id)
      } catch (err) {
        notFound(err)
      }
      return c.body(null, 204)
    })
}
