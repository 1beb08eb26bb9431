import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import type { Logger } from '../logging/logger.ts'
import type { ShieldwallNode } from '../shieldwall-node.ts'
import { tokenMatches } from './api-token.ts'
import { apiError, errorHandler } from './errors.ts'
import { healthRoutes } from './routes/health.ts'
import { decisionRoutes } from './routes/decisions.ts'
import { eventRoutes } from './routes/events.ts'
import { networkRoutes } from './routes/network.ts'

// Event batches (up to 10,000 events) are the largest bodies.
const MAX_BODY_BYTES = 4 * 1024 * 1024

/** The control API: one router per resource, validation at the edge, one error shape. */
export function createApp(node: ShieldwallNode, token: string, log: Logger): Hono {
  const app = new Hono()
  app.onError(errorHandler(log))
  app.notFound((c) =>
    c.json({ error: { status: 404, message: `no route for ${c.req.method} ${c.req.path}` } }, 404),
  )
  app.route('/', healthRoutes())

  app.use(
    '/api/*',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw apiError(413, `body over ${MAX_BODY_BYTES} bytes`)
      },
    }),
  )
  app.use('/api/*', async (c, next) => {
    const header = c.req.header('authorization') ?? ''
    const match = /^Bearer\s+(\S+)$/i.exec(header)
    if (match === null || !tokenMatches(match[1], token)) {
      const message = match === null ? 'missing bearer token' : 'invalid token'
      c.header('WWW-Authenticate', 'Bearer realm="shieldwall"')
      return c.json({ error: { status: 401, message } }, 401)
    }
    await next()
  })
  app.route('/api/defense/network', networkRoutes(node))
  app.route('/api/defense/decisions', decisionRoutes(node))
  app.route('/api/events', eventRoutes(node))
  return app
}
