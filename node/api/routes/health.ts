import { Hono } from 'hono'

/** Liveness for load balancers and container HEALTHCHECKs: no auth, no detail. */
export function healthRoutes(): Hono {
  return new Hono().get('/healthz', (c) => c.json({ status: 'ok' }))
}
