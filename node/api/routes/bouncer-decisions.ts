import { Hono, type Context } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { validator } from 'hono/validator'
import { z } from 'zod'
import { parseIndicator, type Indicator } from '../../../protocol/indicator.ts'
import type { BouncerService } from '../../bouncer/bouncer-service.ts'
import {
  buildFilter,
  DecisionFeed,
  toCrowdsecDecision,
  type DecisionQuery,
  type StreamPull,
} from '../../bouncer/decision-feed.ts'
import type { StreamSource } from '../../bouncer/paced-stream.ts'
import { pacedResponse } from './decision-stream.ts'

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

/** Above this many decisions an answer is written as the client reads it rather than built as one string. */
const CHUNK = 2000

const JSON_HEADERS = { 'content-type': 'application/json; charset=UTF-8' }

/**
 * A JSON document written a piece at a time: each section's opening text, its items joined by commas, then
 * the closing text. With `empty`, the opening waits for the first item and an answer without any is `empty`
 * instead (LAPI's `null`).
 */
class JsonAnswer implements StreamSource {
  readonly #sections: Array<{ open: string; items: Iterator<string> }>
  readonly #end: string
  readonly #empty: string | undefined
  readonly #done: () => void
  #section = 0
  #inSection = 0
  #opened = false
  #total = 0
  #finished = false

  constructor(
    sections: Array<[open: string, items: Iterable<string>]>,
    end: string,
    options: { empty?: string; done?: () => void } = {},
  ) {
    this.#sections = sections.map(([open, items]) => ({ open, items: items[Symbol.iterator]() }))
    this.#end = end
    this.#empty = options.empty
    this.#done = options.done ?? (() => {})
  }

  next(budget: number): string | undefined {
    if (this.#finished) return undefined
    let out = ''
    while (this.#section < this.#sections.length) {
      const section = this.#sections[this.#section]
      if (!this.#opened && this.#empty === undefined) {
        out += section.open
        this.#opened = true
      }
      for (;;) {
        if (out.length >= budget) return out
        const step = section.items.next()
        if (step.done === true) break
        if (!this.#opened) {
          out += section.open
          this.#opened = true
        } else if (this.#inSection > 0) {
          out += ','
        }
        out += step.value
        this.#inSection++
        this.#total++
      }
      this.#section++
      this.#inSection = 0
      if (this.#empty === undefined) this.#opened = false
    }
    this.#finished = true
    this.#done()
    return this.#empty !== undefined && this.#total === 0 ? this.#empty : out + this.#end
  }
}

function* map<T, U>(items: Iterable<T>, f: (item: T) => U): Generator<U> {
  for (const item of items) yield f(item)
}

/** `{"new":[...],"deleted":[...]}`; the bouncer's cursor moves once the last piece is taken. */
function streamAnswer(pull: StreamPull): JsonAnswer {
  return new JsonAnswer(
    [
      ['{"new":[', map(pull.added, (e) => JSON.stringify(toCrowdsecDecision(e, pull.now)))],
      [
        '],"deleted":[',
        map(pull.deleted, (d) => JSON.stringify(toCrowdsecDecision(d.entry, pull.now, d.endedAt))),
      ],
    ],
    ']}',
    { done: () => pull.commit() },
  )
}

export interface BouncerAuthOptions {
  /**
   * Also accept `Authorization: Bearer` tokens (scope `bouncer` or `admin`): returns the name the stream
   * cursor is kept under, or undefined to refuse.
   */
  bearer?: (authorization: string | undefined) => string | undefined
}

export function bouncerDecisionRoutes(bouncers: BouncerService, options: BouncerAuthOptions = {}): Hono<Env> {
  const { keys, feed, streams } = bouncers

  /** A long answer, written as the bouncer reads it within the stream limits (the SSE stream's), or 429. */
  const paced = (c: Context<Env>, source: () => StreamSource): Response =>
    pacedResponse(
      c,
      streams,
      { token: c.get('bouncer'), kind: 'lapi', error: lapiError },
      source,
      JSON_HEADERS,
    )

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
        const query = parseDecisionsQuery(c.req.query())
        // HEAD runs this handler too (Hono strips the body); like LAPI it does not count as a pull.
        if (c.req.method !== 'HEAD') keys.touch(c.get('bouncer'))
        if (!DecisionFeed.isPointQuery(query)) {
          // The whole list or a range: read from the shared snapshot as the client takes it.
          if (c.req.method === 'HEAD') return c.body(null, 200, JSON_HEADERS)
          const scan = feed.scan(query)
          if (scan.bound > CHUNK) {
            const items = map(scan.decisions, (d) => JSON.stringify(d))
            return paced(c, () => new JsonAnswer([['[', items]], ']', { empty: 'null' }))
          }
          const decisions = [...scan.decisions]
          if (decisions.length === 0) return c.body('null', 200, JSON_HEADERS)
          return c.json(decisions)
        }
        const decisions = feed.query(query)
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
        if (pull.bound > CHUNK) return paced(c, () => streamAnswer(pull))
        const body = {
          new: Array.from(pull.added, (e) => toCrowdsecDecision(e, pull.now)),
          deleted: Array.from(pull.deleted, (d) => toCrowdsecDecision(d.entry, pull.now, d.endedAt)),
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
