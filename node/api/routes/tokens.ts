import { Hono } from 'hono'
import { z } from 'zod'
import type { ShieldwallNode } from '../../shieldwall-node.ts'
import { TOKEN_SCOPES } from '../auth/scopes.ts'
import { apiError } from '../errors.ts'
import { doc } from '../openapi/route-doc.ts'
import { jsonBody, pathParams } from '../validate.ts'

const CreateToken = z
  .object({
    scope: z.enum(TOKEN_SCOPES),
    name: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, . _ - (at most 64)')
      .optional(),
    ttlSeconds: z
      .number()
      .int()
      .min(60)
      .max(10 * 365 * 86_400)
      .optional(),
  })
  .strict()
const TokenParam = z.object({ id: z.string().regex(/^[0-9a-f]{12}$/, 'a token id (12 hex digits)') })

/** Scoped API tokens: `admin` for everything, `read` for GET routes, `bouncer` for `/v1/decisions*`. */
export function tokenRoutes(node: ShieldwallNode): Hono {
  return new Hono()
    .get('/', doc({ summary: 'Scoped tokens (never their secrets)' }), (c) =>
      c.json({ items: node.tokens.list() }),
    )
    .post(
      '/',
      doc({ summary: 'Create a scoped token; the secret is shown only in this answer (admin)' }),
      jsonBody(CreateToken),
      async (c) => {
        const { token, record } = await node.tokens.create(c.req.valid('json'))
        return c.json({ token, ...record }, 201)
      },
    )
    .delete('/:id', doc({ summary: 'Revoke a token (admin)' }), pathParams(TokenParam), async (c) => {
      try {
        await node.tokens.revoke(c.req.valid('param').id)
      } catch (err) {
        if ((err as Error).name === 'TokenNotFoundError') throw apiError(404, (err as Error).message)
        throw err
      }
      return c.body(null, 204)
    })
}
