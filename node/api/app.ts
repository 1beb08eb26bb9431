import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { dashboardRoutes } from '../dashboard/dashboard-routes.ts'
import type { Logger } from '../logging/logger.ts'
import type { ShieldwallNode } from '../shieldwall-node.ts'
import { tokenMatches } from './api-token.ts'
import { scopeAllows, type TokenScope } from './auth/scopes.ts'
import { apiError, errorHandler } from './errors.ts'
import { buildOpenApiDocument } from './openapi/openapi-document.ts'
import { docsPage } from './openapi/docs-page.ts'
import { doc } from './openapi/route-doc.ts'
import { writeRateLimit } from './rate-limit.ts'
import { blocklistRoutes } from './routes/blocklist.ts'
import { bouncerDecisionRoutes } from './routes/bouncer-decisions.ts'
import { bouncerRoutes } from './routes/bouncers.ts'
import { decisionStreamRoutes } from './routes/decision-stream.ts'
import { decisionRoutes } from './routes/decisions.ts'
import { eventRoutes } from './routes/events.ts'
import { healthRoutes } from './routes/health.ts'
import { mlRoutes } from './routes/ml.ts'
import { networkRoutes } from './routes/network.ts'
import { peerRoutes } from './routes/peers.ts'
import { tokenRoutes } from './routes/tokens.ts'
import { webhookRoutes } from './routes/webhooks.ts'

// Event batches (up to 10,000 events) are the largest bodies.
const MAX_BODY_BYTES = 4 * 1024 * 1024

type Env = { Variables: { scope: TokenScope; tokenName: string } }

/** Who a bearer token is: the admin token file, or a scoped token from `shieldwall token create`. */
function resolveBearer(node: ShieldwallNode, adminToken: string, header: string | undefined) {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '')
  if (match === null) return undefined
  if (tokenMatches(match[1], adminToken)) return { scope: 'admin' as const, name: 'admin' }
  const record = node.tokens.verify(match[1])
  return record === undefined ? null : { scope: record.scope, name: record.name }
}

/**
 * The control API: one router per resource, validation at the edge, one error shape, one authorization rule
 * (`auth/scopes.ts`) for every route, and an OpenAPI document built from the routes themselves.
 */
export function createApp(node: ShieldwallNode, token: string, log: Logger): Hono {
  const app = new Hono<Env>()
  app.onError(errorHandler(log))
  app.notFound((c) =>
    c.json({ error: { status: 404, message: `no route for ${c.req.method} ${c.req.path}` } }, 404),
  )

  // Latency of every request, labelled by route pattern (not raw path: addresses would explode cardinality).
  app.use('*', async (c, next) => {
    const started = process.hrtime.bigint()
    await next()
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    node.metrics.apiLatency.observe(
      { method: c.req.method, route: c.req.routePath || 'unmatched', status: String(c.res.status) },
      seconds,
    )
  })

  app.route('/', healthRoutes())
  app.route('/', dashboardRoutes())

  // CrowdSec's bouncer API: bouncer keys in X-Api-Key, or a bearer token of scope bouncer (or admin).
  app.route(
    '/v1',
    bouncerDecisionRoutes(node.bouncers, {
      bearer: (header) => {
        const who = resolveBearer(node, token, header)
        return who && scopeAllows(who.scope, 'GET', '/v1/decisions') ? `token:${who.name}` : undefined
      },
    }),
  )

  app.use(
    '/api/*',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw apiError(413, `body over ${MAX_BODY_BYTES} bytes`)
      },
    }),
  )
  for (const prefix of ['/api/*', '/metrics']) {
    app.use(prefix, async (c, next) => {
      const who = resolveBearer(node, token, c.req.header('authorization'))
      if (who === undefined || who === null) {
        c.header('WWW-Authenticate', 'Bearer realm="shieldwall"')
        const message = who === undefined ? 'missing bearer token' : 'invalid token'
        return c.json({ error: { status: 401, message } }, 401)
      }
      if (!scopeAllows(who.scope, c.req.method, c.req.path)) {
        const needs = c.req.method === 'GET' || c.req.method === 'HEAD' ? 'read' : 'admin'
        throw apiError(403, `a ${who.scope} token cannot ${c.req.method} ${c.req.path} (needs ${needs})`)
      }
      c.set('scope', who.scope)
      c.set('tokenName', who.name)
      await next()
    })
  }
  app.use('/api/*', writeRateLimit())

  app.get('/metrics', doc({ summary: 'Prometheus metrics of this node', scope: 'read' }), async (c) =>
    c.body(await node.metrics.text(), 200, { 'content-type': node.metrics.contentType }),
  )
  app.route('/api/defense/network/blocklist', blocklistRoutes(node))
  app.route('/api/defense/network/peers', peerRoutes(node))
  app.route('/api/defense/network', networkRoutes(node))
  app.route('/api/defense/decisions/stream', decisionStreamRoutes(node.bouncers))
  app.route('/api/defense/decisions', decisionRoutes(node))
  app.route('/api/events', eventRoutes(node))
  app.route('/api/bouncers', bouncerRoutes(node.bouncers))
  app.route('/api/tokens', tokenRoutes(node))
  app.route('/api/webhooks', webhookRoutes(node))
  app.route('/api/ml', mlRoutes(node))

  // Built once, after every route is registered, from the routes themselves.
  let document: ReturnType<typeof buildOpenApiDocument> | undefined
  app.get('/openapi.json', doc({ summary: 'This API as an OpenAPI 3.1 document', scope: 'public' }), (c) => {
    document ??= buildOpenApiDocument(app as unknown as Hono)
    return c.json(document)
  })
  app.get('/docs', doc({ summary: 'Human-readable API documentation', scope: 'public' }), (c) => {
    document ??= buildOpenApiDocument(app as unknown as Hono)
    return c.html(docsPage(document))
  })
  return app as unknown as Hono
}
