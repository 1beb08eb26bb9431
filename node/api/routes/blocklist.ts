import { Hono, type Context } from 'hono'
import { z } from 'zod'
import { parseIndicator } from '../../../protocol/indicator.ts'
import { parseIp } from '../../../protocol/indicator-ip.ts'
import { SCENARIO_PATTERN } from '../../../protocol/messages/alert.ts'
import type { BlockEntry } from '../../blocklist/block-entry.ts'
import { NEVER } from '../../blocklist/blocklist.ts'
import {
  checkExport,
  EXPORT_FORMATS,
  EXPORT_NAME_RULE,
  exportChunks,
  exportRows,
  formatTimeouts,
  isExportName,
  prepareEntries,
  type ExportFormat,
  type ExportRows,
} from '../../blocklist/exporters.ts'
import { snapshotExportRows } from '../../bouncer/export-rows.ts'
import type { StreamSource } from '../../bouncer/paced-stream.ts'
import type { ShieldwallNode } from '../../shieldwall-node.ts'
import { apiError } from '../errors.ts'
import { doc } from '../openapi/route-doc.ts'
import { jsonBody, queryParams } from '../validate.ts'
import { pacedResponse, tokenOf } from './decision-stream.ts'

const cidr = z.string().transform((text, ctx) => {
  try {
    return parseIndicator(text.trim()).canonical
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `not an IPv4/IPv6 address or CIDR: ${(err as Error).message}` })
    return z.NEVER
  }
})

const MAX_CHANGES = 10_000
const SCENARIO_RULE = 'lowercase letters, digits and . _ : / -, starting with a letter or digit, at most 64'

const ManualEntry = z
  .object({
    value: cidr,
    durationSeconds: z
      .number()
      .int()
      .min(1)
      .max(10 * 365 * 86_400)
      .optional(),
    reason: z.string().max(500).optional(),
    // the rule of alert scenarios: this name reaches bouncers as `shieldwall/<scenario>` and dashboards as text
    scenario: z.string().regex(SCENARIO_PATTERN, SCENARIO_RULE).optional(),
  })
  .strict()

export const BlocklistChanges = z
  .object({
    add: z.array(ManualEntry).max(MAX_CHANGES).default([]),
    remove: z.array(cidr).max(MAX_CHANGES).default([]),
    allow: z.array(cidr).max(MAX_CHANGES).default([]),
    unallow: z.array(cidr).max(MAX_CHANGES).default([]),
  })
  .strict()
  .refine((b) => b.add.length + b.remove.length + b.allow.length + b.unallow.length > 0, {
    message: 'nothing to change: give add, remove, allow or unallow',
  })

// strict: a parameter this route does not have is a 400 naming it, never silently ignored
const ListQuery = z.strictObject({
  format: z.enum(['json', ...EXPORT_FORMATS]).default('json'),
  /** entries covering this address; checked by the parser lookup uses, so a non-address is a 400, not `[]` */
  ip: z
    .string()
    .max(64)
    .refine((text) => parseIp(text) !== undefined, 'an IPv4 or IPv6 address')
    .optional(),
  origin: z.enum(['local', 'community', 'manual']).optional(),
  limit: z.coerce.number().int().min(1).max(100_000).default(1000),
  /** nft/ipset: give elements a timeout so the firewall forgets them by itself */
  timeouts: z.enum(['1', 'true', '0', 'false']).optional(),
  /** nft/ipset: base name of the table and sets */
  name: z.string().refine(isExportName, EXPORT_NAME_RULE).optional(),
})

const EXPORT_HEADERS = {
  'content-type': 'text/plain; charset=utf-8',
  // so @hono/node-server sends the headers at once instead of reading ahead to size the body
  'transfer-encoding': 'chunked',
}

/**
 * An export written as its client reads it: counted first (its header states the counts), then its pieces
 * joined up to the paced stream's budget. Only the pieces being written are held, never the whole file.
 */
class ExportSource implements StreamSource {
  readonly #format: ExportFormat
  readonly #options: Parameters<typeof exportChunks>[2]
  readonly #rows: (aborted: () => boolean) => Promise<ExportRows | undefined>
  #chunks: Iterator<string> | undefined
  #closed = false

  constructor(
    format: ExportFormat,
    options: Parameters<typeof exportChunks>[2],
    rows: (aborted: () => boolean) => Promise<ExportRows | undefined>,
  ) {
    this.#format = format
    this.#options = options
    this.#rows = rows
  }

  async next(budget: number): Promise<string | undefined> {
    if (this.#chunks === undefined) {
      const rows = await this.#rows(() => this.#closed)
      if (rows === undefined || this.#closed) return undefined
      this.#chunks = exportChunks(this.#format, rows, this.#options)
    }
    let out = ''
    while (out.length < budget) {
      const step = this.#chunks.next()
      if (step.done === true) return out.length > 0 ? out : undefined
      out += step.value
    }
    return out
  }

  close(): void {
    this.#closed = true
  }
}

/** Above this many entries a JSON page is written as the client reads it, under the stream gate. */
const JSON_ONE_PIECE = 2000
/** Entries whose stored details are read at once while a long JSON page is written. */
const JSON_SLICE = 250

const JSON_HEADERS = { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }

/**
 * A long JSON page (`limit` up to 100,000) written a slice at a time: the same bytes `c.json` wrote, except that
 * an entry removed while the page is written is left out of it.
 */
class JsonPageSource implements StreamSource {
  readonly #head: string
  readonly #values: string[]
  readonly #read: (values: string[]) => Promise<BlockEntry[]>
  readonly #tail: string
  #at = 0
  #written = 0
  /** a slice read with its details, handed out an item at a time so a piece overshoots its budget by one */
  #ready: BlockEntry[] = []
  #state: 'head' | 'items' | 'done' = 'head'

  constructor(
    head: string,
    values: string[],
    read: (values: string[]) => Promise<BlockEntry[]>,
    tail: string,
  ) {
    this.#head = head
    this.#values = values
    this.#read = read
    this.#tail = tail
  }

  async next(budget: number): Promise<string | undefined> {
    if (this.#state === 'done') return undefined
    let out = ''
    if (this.#state === 'head') {
      out += this.#head
      this.#state = 'items'
    }
    while (out.length < budget) {
      if (this.#ready.length === 0) {
        if (this.#at >= this.#values.length) {
          this.#state = 'done'
          return out + this.#tail
        }
        const slice = this.#values.slice(this.#at, this.#at + JSON_SLICE)
        this.#at += slice.length
        this.#ready = (await this.#read(slice)).reverse()
        continue
      }
      const entry = this.#ready.pop() as BlockEntry
      out += (this.#written++ > 0 ? ',' : '') + JSON.stringify(entryView(entry))
    }
    return out
  }
}

/** An expiry as the API shows it: ISO time, or null for a block that never expires. */
export function expiryView(expiresAt: number): string | null {
  return expiresAt >= NEVER ? null : new Date(expiresAt).toISOString()
}

/** A blocklist entry as every API path shows it (REST, the decision stream). */
export function entryView(e: BlockEntry) {
  return { ...e, createdAt: new Date(e.createdAt).toISOString(), expiresAt: expiryView(e.expiresAt) }
}

/** The node's blocklist: what it blocks and why, manual entries and the allowlist. */
export function blocklistRoutes(node: ShieldwallNode): Hono {
  return new Hono()
    .get(
      '/',
      doc({
        summary: 'The active blocklist, as JSON or as a file for nftables, ipset, nginx or a plain list',
      }),
      queryParams(ListQuery),
      async (c) => {
        const { format, ip, origin, limit, timeouts, name } = c.req.valid('query')
        const bl = node.blocklist
        if (format !== 'json') {
          const options = formatTimeouts(format, {
            now: node.bouncers.streams.now(),
            timeouts: timeouts === '1' || timeouts === 'true',
            ...(name !== undefined ? { name } : {}),
          })
          checkExport(format, options)
          if (c.req.method === 'HEAD') return c.body(null, 200, EXPORT_HEADERS)
          // the lists are read once the gate has let the stream in
          const source = (): StreamSource => {
            let rows: (aborted: () => boolean) => Promise<ExportRows | undefined>
            if (ip !== undefined) {
              // the few entries covering one address
              const found = bl.lookup(ip).filter((e) => origin === undefined || e.origin === origin)
              const prepared = exportRows(prepareEntries(found, options))
              rows = async () => prepared
            } else {
              const read = node.bouncers.feed.snapshots.read()
              rows = (aborted) =>
                snapshotExportRows(
                  read,
                  node.bouncers.blocklist,
                  { ...options, ...(origin !== undefined ? { origin } : {}) },
                  aborted,
                )
            }
            return new ExportSource(format, options, rows)
          }
          return pacedResponse(
            c,
            node.bouncers.streams,
            { token: tokenOf(c), kind: 'export', error: apiError },
            source,
            EXPORT_HEADERS,
          )
        }
        if (ip === undefined && limit > JSON_ONE_PIECE) {
          if (c.req.method === 'HEAD') return c.body(null, 200, JSON_HEADERS)
          // the page is chosen once the gate has let the stream in
          const source = (): StreamSource => {
            const chosen = bl.recent({ limit, ...(origin !== undefined ? { origin } : {}) })
            // the page's values only: its entries (and their stored details) are read again as they are written
            const values = chosen.entries.map((e) => e.value)
            return new JsonPageSource(
              `{"total":${chosen.total},"items":[`,
              values,
              (slice) => bl.withDetails(slice.flatMap((value) => bl.get(value) ?? [])),
              `],"allowlist":${JSON.stringify(bl.allowlist.entries())},"stats":${JSON.stringify(bl.stats())}}`,
            )
          }
          return pacedResponse(
            c,
            node.bouncers.streams,
            { token: tokenOf(c), kind: 'list', error: apiError },
            source,
            JSON_HEADERS,
          )
        }
        let total: number
        let page: BlockEntry[]
        if (ip !== undefined) {
          const found = bl.lookup(ip).filter((e) => origin === undefined || e.origin === origin)
          found.sort((a, b) => b.createdAt - a.createdAt || b.id - a.id)
          total = found.length
          page = found.slice(0, limit)
        } else {
          // newest first, chosen without building an object per entry of a million-entry list
          ;({ total, entries: page } = bl.recent({ limit, ...(origin !== undefined ? { origin } : {}) }))
        }
        // reasons and reporters live in the store: read them for the page shown, not for the whole list
        const items = await bl.withDetails(page)
        return c.json({
          total,
          items: items.map(entryView),
          allowlist: bl.allowlist.entries(),
          stats: bl.stats(),
        })
      },
    )
    .put(
      '/',
      doc({ summary: 'Add or remove manual entries and allowlist entries (admin)' }),
      jsonBody(BlocklistChanges),
      async (c) => {
        const changes = c.req.valid('json')
        const bl = node.blocklist
        // Allowlist first: an address both allowed and added in one request stays allowed.
        for (const value of changes.unallow) bl.allowlist.remove(value)
        for (const value of changes.allow) bl.allowlist.add(value, 'config', 'added through the API')
        const added: ReturnType<typeof entryView>[] = []
        for (const [i, entry] of changes.add.entries()) {
          try {
            const e = await bl.add(entry.value, {
              ...(entry.durationSeconds !== undefined ? { durationSeconds: entry.durationSeconds } : {}),
              ...(entry.reason !== undefined ? { reason: entry.reason } : {}),
              ...(entry.scenario !== undefined ? { scenario: entry.scenario } : {}),
            })
            added.push(entryView(e))
          } catch (err) {
            const e = err as Error
            if (e.name === 'AllowlistedError' || e.name === 'InvalidBlockError')
              throw apiError(409, `field "add.${i}.value": ${e.message}`, `add.${i}.value`)
            throw err
          }
        }
        const removed: string[] = []
        for (const value of changes.remove) if ((await bl.remove(value)) !== undefined) removed.push(value)
        return c.json({ added, removed, allowed: changes.allow, unallowed: changes.unallow, size: bl.size })
      },
    )
}
