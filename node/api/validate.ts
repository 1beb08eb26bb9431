import { validator } from 'hono/validator'
import type { z } from 'zod'
import { apiError } from './errors.ts'
import { withDoc } from './openapi/route-doc.ts'

function describe(error: z.ZodError): { field?: string; message: string } {
  const issue = error.issues[0]
  if (issue.code === 'unrecognized_keys') {
    // named like any other bad field: `?ip=` on a route without an ip filter is an error, not ignored
    const field = [...issue.path, issue.keys[0]].join('.')
    return { field, message: `field "${field}": not accepted here` }
  }
  const field = issue.path.join('.')
  return field === '' ? { message: issue.message } : { field, message: `field "${field}": ${issue.message}` }
}

/** Validates at the edge: handlers only ever see parsed, typed input; a bad request names its field. */
export function jsonBody<S extends z.ZodType>(schema: S) {
  return withDoc(
    validator('json', (value) => parseOrThrow(schema, value)),
    { json: schema },
  )
}

export function queryParams<S extends z.ZodType>(schema: S) {
  return withDoc(
    validator('query', (value) => parseOrThrow(schema, value)),
    { query: schema },
  )
}

export function pathParams<S extends z.ZodType>(schema: S) {
  return withDoc(
    validator('param', (value) => parseOrThrow(schema, value)),
    { param: schema },
  )
}

function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value)
  if (!parsed.success) {
    const { field, message } = describe(parsed.error)
    throw apiError(400, message, field)
  }
  return parsed.data as z.output<S>
}
