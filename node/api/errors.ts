import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { Logger } from '../logging/logger.ts'

/** The one error shape every route returns. */
export interface ApiErrorBody {
  error: { status: number; message: string; field?: string }
}

export function apiError(status: ContentfulStatusCode, message: string, field?: string): HTTPException {
  const body: ApiErrorBody = { error: { status, message, ...(field !== undefined ? { field } : {}) } }
  return new HTTPException(status, { message, res: Response.json(body, { status }) })
}

export function errorHandler(log: Logger) {
  return (err: Error, c: Context): Response => {
    if (err instanceof HTTPException) {
      if (err.res !== undefined && err.res.headers.get('content-type')?.includes('json')) return err.res
      // Hono's own exceptions (e.g. malformed JSON from the validator) get our shape too.
      const status = err.status as ContentfulStatusCode
      return c.json({ error: { status, message: err.message || 'request failed' } }, status)
    }
    log.error({ err, path: c.req.path }, 'API handler failed')
    return c.json({ error: { status: 500, message: 'internal error' } }, 500)
  }
}
