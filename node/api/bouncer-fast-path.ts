import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { getRequestListener } from '@hono/node-server'
import type { BouncerService } from '../bouncer/bouncer-service.ts'
import { DecisionFeed } from '../bouncer/decision-feed.ts'
import type { NodeMetrics } from '../metrics/node-metrics.ts'
import { parseDecisionsQuery } from './routes/bouncer-decisions.ts'

const ROUTE = '/v1/decisions'
const JSON_TYPE = 'application/json; charset=UTF-8'

/**
 * `GET /v1/decisions?ip=` straight on node:http, for the one request that web-server bouncers in live mode
 * send for every request they see. The answer is the Hono route's, computed by the same functions
 * (`parseDecisionsQuery`, the same key check and feed); only the Request/Response objects are skipped, which
 * are most of the cost of such a small answer. Anything unusual (no key, a bad key or query, other methods,
 * bearer tokens, a query over the whole list) returns false and goes through the full app, which answers it
 * with its errors and headers.
 */
export function bouncerFastPath(
  bouncers: BouncerService,
  metrics: NodeMetrics,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const url = req.url
    if (req.method !== 'GET' || url === undefined || !url.startsWith(ROUTE)) return false
    const rest = url.length === ROUTE.length ? '' : url[ROUTE.length]
    if (rest !== '' && rest !== '?') return false
    const started = process.hrtime.bigint()
    const key = req.headers['x-api-key']
    const name = typeof key === 'string' ? bouncers.keys.authenticate(key) : undefined
    if (name === undefined) return false
    let decisions
    try {
      const q: Record<string, string> = {}
      const search = new URLSearchParams(rest === '' ? '' : url.slice(ROUTE.length + 1))
      for (const [k, v] of search) if (!(k in q)) q[k] = v
      const query = parseDecisionsQuery(q)
      // the whole list or a range is written as the client reads it, within the stream limits: the app does that
      if (!DecisionFeed.isPointQuery(query)) return false
      decisions = bouncers.feed.query(query)
    } catch {
      return false
    }
    bouncers.keys.touch(name)
    const body = decisions.length === 0 ? 'null' : JSON.stringify(decisions)
    res.writeHead(200, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(body) })
    res.end(body)
    metrics.apiLatency.observe(
      { method: 'GET', route: '/v1/decisions', status: '200' },
      Number(process.hrtime.bigint() - started) / 1e9,
    )
    return true
  }
}

/** The control API's HTTP server as the daemon runs it: the bouncer fast path first, then the whole app. */
export function createApiServer(
  app: { fetch: (request: Request) => Response | Promise<Response> },
  bouncers: BouncerService,
  metrics: NodeMetrics,
): Server {
  const listener = getRequestListener(app.fetch)
  const fast = bouncerFastPath(bouncers, metrics)
  return createServer((req, res) => {
    if (!fast(req, res)) void listener(req, res)
  })
}
