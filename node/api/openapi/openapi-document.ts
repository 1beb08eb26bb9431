import type { Hono } from 'hono'
import { z } from 'zod'
import { VERSION } from '../../version.ts'
import { docOf, type RouteDoc, type RouteScope } from './route-doc.ts'

type JsonSchema = Record<string, unknown>

export interface OpenApiOperation {
  operationId: string
  summary?: string
  description?: string
  tags?: string[]
  parameters?: JsonSchema[]
  requestBody?: JsonSchema
  responses: Record<string, JsonSchema>
  security?: Record<string, string[]>[]
  'x-scope'?: RouteScope
}

export interface OpenApiDocument {
  openapi: '3.1.0'
  info: { title: string; version: string; description: string }
  paths: Record<string, Record<string, OpenApiOperation>>
  components: Record<string, unknown>
}

/** The error shape every route shares (`errors.ts`). */
const ErrorSchema = z.object({
  error: z.object({ status: z.number().int(), message: z.string(), field: z.string().optional() }),
})

function jsonSchema(schema: z.ZodType): JsonSchema {
  // Input side: what a client sends (before transforms and defaults).
  const out = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema
  delete out.$schema
  return out
}

/** `/api/x/:id` → `/api/x/{id}` */
export function openApiPath(honoPath: string): string {
  return honoPath.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, '{$1}')
}

function defaultScope(path: string, method: string): RouteScope {
  if (path.startsWith('/v1/')) return 'bouncer'
  if (!path.startsWith('/api/') && !path.startsWith('/metrics')) return 'public'
  return method === 'get' ? 'read' : 'admin'
}

function parametersFrom(where: 'query' | 'path', schema: z.ZodType | undefined): JsonSchema[] {
  if (schema === undefined) return []
  const js = jsonSchema(schema)
  const props = (js.properties ?? {}) as Record<string, JsonSchema>
  const required = new Set((js.required as string[] | undefined) ?? [])
  return Object.entries(props).map(([name, s]) => ({
    name,
    in: where,
    required: where === 'path' ? true : required.has(name) && !('default' in s),
    schema: s,
    ...(typeof s.description === 'string' ? { description: s.description } : {}),
  }))
}

/**
 * Builds the OpenAPI 3.1 document from the app itself: every registered route (method + path) becomes an
 * operation, its request schemas are the validators' own zod schemas, and `doc()` adds summaries, scopes
 * and responses. A route added without docs still appears, so the document can never omit an endpoint.
 */
export function buildOpenApiDocument(app: Hono): OpenApiDocument {
  const merged = new Map<string, { method: string; path: string; doc: RouteDoc }>()
  for (const route of app.routes) {
    const method = route.method.toLowerCase()
    // `ALL` entries are middleware (auth, limits), not endpoints.
    if (method === 'all' || route.path.endsWith('*')) continue
    const path = openApiPath(route.path)
    const key = `${method} ${path}`
    const entry = merged.get(key) ?? { method, path, doc: {} }
    const d = docOf(route.handler)
    if (d !== undefined)
      entry.doc = { ...entry.doc, ...d, responses: { ...entry.doc.responses, ...d.responses } }
    merged.set(key, entry)
  }

  const paths: OpenApiDocument['paths'] = {}
  for (const { method, path, doc } of [...merged.values()].sort((a, b) => a.path.localeCompare(b.path))) {
    const scope = doc.scope ?? defaultScope(path, method)
    const pathNames = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1])
    const pathParameters = doc.param
      ? parametersFrom('path', doc.param)
      : pathNames.map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } }))
    const parameters = [...pathParameters, ...parametersFrom('query', doc.query)]
    const responses: Record<string, JsonSchema> = {}
    for (const [status, r] of Object.entries(doc.responses ?? { '200': { description: 'OK' } })) {
      responses[status] = {
        description: r.description,
        ...(r.schema !== undefined
          ? { content: { [r.contentType ?? 'application/json']: { schema: jsonSchema(r.schema) } } }
          : {}),
      }
    }
    if (doc.json !== undefined || parameters.some((p) => p.in === 'query'))
      responses['400'] ??= { description: 'Invalid request', content: errorContent() }
    if (scope !== 'public') {
      responses['401'] ??= { description: 'Missing or invalid credentials', content: errorContent() }
      responses['403'] ??= {
        description: 'The token lacks the scope this route needs',
        content: errorContent(),
      }
    }
    const operation: OpenApiOperation = {
      operationId: operationId(method, path),
      ...(doc.summary !== undefined ? { summary: doc.summary } : {}),
      ...(doc.description !== undefined ? { description: doc.description } : {}),
      tags: doc.tags ?? [tagOf(path)],
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(doc.json !== undefined
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: jsonSchema(doc.json) } },
            },
          }
        : {}),
      responses,
      ...(scope === 'public'
        ? { security: [] }
        : scope === 'bouncer'
          ? { security: [{ bouncerKey: [] }, { bearerToken: [] }] }
          : { security: [{ bearerToken: [] }] }),
      'x-scope': scope,
    }
    paths[path] ??= {}
    paths[path][method] = operation
  }

  return {
    openapi: '3.1.0',
    info: {
      title: 'shieldwall node API',
      version: VERSION,
      description:
        'Control API of one shieldwall node (bearer tokens with scopes admin, read, bouncer) and the ' +
        'CrowdSec-compatible bouncer API under /v1 (X-Api-Key). Errors share one shape: ' +
        '{"error": {"status", "message", "field"?}}.',
    },
    paths,
    components: {
      securitySchemes: {
        bearerToken: { type: 'http', scheme: 'bearer', description: 'API token (`shieldwall token create`)' },
        bouncerKey: {
          type: 'apiKey',
          in: 'header',
          name: 'X-Api-Key',
          description: '`shieldwall bouncer add`',
        },
      },
      schemas: { Error: jsonSchema(ErrorSchema) },
    },
  }
}

function errorContent(): JsonSchema {
  return { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } }
}

function tagOf(path: string): string {
  const parts = path.split('/').filter((p) => p !== '' && !p.startsWith('{'))
  if (parts[0] === 'v1') return 'bouncer'
  if (parts[0] !== 'api') return parts[0] ?? 'node'
  return parts[1] === 'defense' ? (parts[2] ?? 'defense') : (parts[1] ?? 'api')
}

function operationId(method: string, path: string): string {
  const words = path
    .split('/')
    .filter((p) => p !== '')
    .map((p) => (p.startsWith('{') ? 'by-' + p.slice(1, -1) : p))
    .join('-')
  return `${method}-${words || 'root'}`.replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) =>
    c === undefined ? '' : c.toUpperCase(),
  )
}
