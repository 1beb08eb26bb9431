import type { MiddlewareHandler } from 'hono'
import type { z } from 'zod'

/** Who may call a route: tokens carry one of these scopes (`admin` may call everything). */
export type RouteScope = 'public' | 'read' | 'admin' | 'bouncer'

/**
 * What the OpenAPI document says about a route. Request schemas are never written here by hand: the edge
 * validators (`validate.ts`) attach the very schemas they validate with, so the document cannot drift.
 */
export interface RouteDoc {
  summary?: string
  description?: string
  tags?: string[]
  scope?: RouteScope
  json?: z.ZodType
  query?: z.ZodType
  param?: z.ZodType
  /** status → description (and, optionally, a response schema) */
  responses?: Record<string, { description: string; schema?: z.ZodType; contentType?: string }>
}

export const ROUTE_DOC = Symbol.for('shieldwall.route-doc')

export type DocumentedHandler = MiddlewareHandler & { [ROUTE_DOC]?: RouteDoc }

/** Attaches documentation to a handler (which still runs unchanged). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function withDoc<H extends (...args: any[]) => unknown>(handler: H, doc: RouteDoc): H {
  const documented = handler as H & { [ROUTE_DOC]?: RouteDoc }
  documented[ROUTE_DOC] = { ...documented[ROUTE_DOC], ...doc }
  return handler
}

/** A pass-through middleware carrying a route's summary, scope and responses: `.get('/x', doc({...}), ...)`. */
export function doc(d: RouteDoc): MiddlewareHandler {
  return withDoc(async (_c, next) => {
    await next()
  }, d)
}

export function docOf(handler: unknown): RouteDoc | undefined {
  return typeof handler === 'function' ? (handler as DocumentedHandler)[ROUTE_DOC] : undefined
}
