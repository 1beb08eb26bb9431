import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { validator } from 'hono/validator'
import { z } from 'zod'
import { parseIndicator, type Indicator } from '../../../protocol/indicator.ts'
import type { BouncerService } from '../../bouncer/bouncer-service.ts'
import {
  buildFilter,
  toCrowdsecDecision,
  type DecisionQuery,
  type StreamPull,
} from '../../bouncer/decision-feed.ts'

/**
 * CrowdSec's Local API as bouncers use it (pkg/apiserver/controllers/v1/decisions.go), so the firewall, nginx,
 * Traefik, custom... bouncers work unchanged: point them at this node with a key from `shieldwall bouncer add`.
 * Mounted at `/v1`, outside the bearer-token `/api/*` space: bouncers authenticate with `X-Api-Key`.
 */

type Env = { Variables: { bouncer: string } }

/** Errors in LAPI's shape (`message`, which Go bouncers print) and ours (`error`), in one body. */
export function lapiError(status: ContentfulStatusCode, message: string, field?: string): HTTPException {
  const error = { status, message, ...(field !== undefined ? { field } : {}) }
  return new HTTPException(status, { message, res: Response.json({ message, error }, { status }) })
}

function lapiQuery<S extends z.ZodType>(schema: S) {
  return validator('query', (value) => {
    const parsed = schema.safeParse(value)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      const field = issue.path.join('.')
      throw lapiError(400, field === '' ? issue.message : `${field}: ${issue.message}`, field || undefined)
    }
    return parsed.data as z.output<S>
  })
}

const text = z.string().max(4096)

const FilterParams = {
  scope: text.optional(),
  scopes: text.optional(),
  value: text.optional(),
  type: text.optional(),
  origins: text.optional(),
  scenarios_containing: text.optional(),
  scenarios_not_containing: text.optional(),
}

const StreamQuery = z.object({ ...FilterParams, startup: text.optional() })

type FilterInput = { [K in keyof typeof FilterParams]?: string }

function filterFrom(q: FilterInput, defaultScopes?: string) {
  return buildFilter({
    scopes: q.scopes ?? q.scope ?? defaultScopes,
    scenariosContaining: q.scenarios_containing,
    scenariosNotContaining: q.scenarios_not_containing,
    origins: q.origins,
    value: q.value,
    type: q.type,
  })
}

// Go's strconv.ParseBool, which LAPI uses for `contains`.
const GO_BOOL = new Map<string, boolean>([
  ...['1', 't', 'T', 'TRUE', 'true', 'True'].map((k) => [k, true] as const),
  ...['0', 'f', 'F', 'FALSE', 'false', 'False'].map((k) => [k, false] as const),
])

const FILTER_NAMES = Object.keys(FilterParams) as Array<keyof typeof FilterParams>

/**
 * The validator of `GET /v1/decisions`, the one hot path: web-server bouncers in live mode call it for every
 * request they see. Hand-written rather than a zod schema behind hono's validator (which splits every
 * parameter into arrays first): the same checks at a fraction of the cost. Unknown parameters (simulated,
 * limit, ...) are ignored, as LAPI ignores those it does not know.
 */
export function parseDecisionsQuery(q: Record<string, string>): DecisionQuery {
  let address: Indicator | undefined
  for (const name of ['ip', 'range'] as const) {
    const text = q[name]
    if (text === undefined) continue
    try {
      if (text.length > 64) throw new Error('longer than 64 characters')
      address = parseIndicator(text)
    } catch (err) {
      throw lapiError(400, `${name}: not an IPv4/IPv6 address or CIDR: ${(err as Error).message}`, name)
    }
  }
  let contains: boolean | undefined
  if (q.contains !== undefined) {
    contains = GO_BOOL.get(q.contains)
    if (contains === undefined) throw lapiError(400, 'contains: expected true or false', 'contains')
  }
  let filtered = false
  for (const name of FILTER_NAMES) {
    const value = q[name]
    if (value === undefined) continue
    if (value.length > 4096) throw lapiError(400, `${name}: longer than 4096 characters`, name)
    filtered = true
  }
  return {
    ...(filtered ? filterFrom(q) : {}),
    ...(address !== undefined ? { address } : {}),
    ...(contains !== undefined ? { contains } : {}),
  }
}

/** Above this many decisions a stream answer is written in chunks rather than built as one string. */
const CHUNK = 2000

const JSON_HEADERS = { 'content-type': 'application/json; charset=UTF-8' }

/** `{"new":[...],"deleted":[...]}` produced a chunk at a time; the cursor moves once the last chunk is taken. */
function chunkedAnswer(pull: StreamPull): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder()
  let part: 'new' | 'deleted' | 'done' = 'new'
  let i = 0
  return new ReadableStream({
    pull(controller) {
      let out = i === 0 && part === 'new' ? '{"new":[' : ''
      const end = i + CHUNK
      if (part === 'new') {
        for (; i < pull.added.length && i < end; i++) {
          out += (i > 0 ? ',' : '') + JSON.stringify(toCrowdsecDecision(pull.added[i], pull.now))
        }
        if (i === pull.added.length) {
          out += '],"deleted":['
          part = 'deleted'
          i = 0
        }
      } else if (part === 'deleted') {
        for (; i < pull.deleted.length && i < end; i++) {
          const d = pull.deleted[i]
          out += (i > 0 ? ',' : '') + JSON.stringify(toCrowdsecDecision(d.entry, pull.now, d.endedAt))
        }
        if (i === pull.deleted.length) {
          out += ']}'
          part = 'done'
        }
      }
      if (out.length > 0) controller.enqueue(encoder.encode(out))
      if (part === 'done') {
        pull.commit()
        controller.close()
      }
    },
  })
}

export interface BouncerAuthOptions {
  /**
   * Also accept `Authorization: Bearer` tokens (scope `bouncer` or `admin`): returns the name the stream
   * cursor is kept under, or undefined to refuse.
   */
  bearer?: (authorization: string | undefined) => string | undefined
}

export function bouncerDecisionRoutes(bouncers: BouncerService, options: BouncerAuthOptions = {}): Hono<Env> {
  const { keys, feed } = bouncers
  return (
    new Hono<Env>()
      .use('*', async (c, next) => {
        let name = keys.authenticate(c.req.header('x-api-key'))
        if (name === undefined && options.bearer !== undefined)
          name = options.bearer(c.req.header('authorization'))
        // LAPI answers a missing or unknown key with 403 "access forbidden" (middlewares/v1/api_key.go).
        if (name === undefined) throw lapiError(403, 'access forbidden')
        c.set('bouncer', name)
        await next()
      })

      // Live mode: "is this address banned?" on every request a web server sees. The hot path.
      .get('/decisions', (c) => {
        const decisions = feed.query(parseDecisionsQuery(c.req.query()))
        // HEAD runs this handler too (Hono strips the body); like LAPI it does not count as a pull.
        if (c.req.method !== 'HEAD') keys.touch(c.get('bouncer'))
        // LAPI answers `null`, not `[]`, when nothing matches; the Lua bouncers test for exactly that.
        if (decisions.length === 0) return c.body('null', 200, JSON_HEADERS)
        return c.json(decisions)
      })

      // Stream mode: the whole list at startup, then what changed since this bouncer's last pull.
      .get('/decisions/stream', lapiQuery(StreamQuery), (c) => {
        // A HEAD is a connectivity check: no body, and the bouncer's position must not move.
        if (c.req.method === 'HEAD') return c.body(null, 200)
        const q = c.req.valid('query')
        const bouncer = c.get('bouncer')
        const pull = feed.pull(bouncer, {
          startup: q.startup === 'true',
          filter: filterFrom(q, 'ip,range'),
          deletedOnStartup: !(c.req.header('user-agent') ?? '').startsWith('crowdsec-firewall-bouncer'),
        })
        keys.touch(bouncer)
        if (pull.added.length + pull.deleted.length > CHUNK) {
          return c.body(chunkedAnswer(pull), 200, JSON_HEADERS)
        }
        const body = {
          new: pull.added.map((e) => toCrowdsecDecision(e, pull.now)),
          deleted: pull.deleted.map((d) => toCrowdsecDecision(d.entry, pull.now, d.endedAt)),
        }
        pull.commit()
        return c.json(body)
      })

      // Newer bouncers report usage metrics; LAPI answers 201. We accept and drop them, so they stay quiet.
      .post(
        '/usage-metrics',
        bodyLimit({
          maxSize: 256 * 1024,
          onError: () => {
            throw lapiError(413, 'body over 256 KiB')
          },
        }),
        async (c) => {
          await c.req.arrayBuffer()
          return c.body(null, 201)
        },
      )
  )
}
