import type { EventKind, SecurityEvent } from '../../ingest/event.ts'
import { newEvent } from '../../ingest/parsers/new-event.ts'
import { randomInt, type Prng } from './prng.ts'

/**
 * Hand-built events for tests and benchmarks, made the way parsers make them (`newEvent`, one hidden class) so
 * that timings measure what production sees.
 */
export interface HttpFields {
  method?: string
  status?: number
  bytes?: number
  userAgent?: string
}

export const BROWSER_UA = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'

export function httpEvent(time: number, ip: string, path: string, fields: HttpFields = {}): SecurityEvent {
  const e = newEvent(time, ip, 'http', 'http_request', 'test')
  e.method = fields.method ?? 'GET'
  e.path = path
  e.status = fields.status ?? 200
  e.bytes = fields.bytes ?? 5120
  e.userAgent = fields.userAgent ?? BROWSER_UA
  return e
}

export function sshEvent(
  time: number,
  ip: string,
  kind: EventKind,
  user?: string,
  count?: number,
): SecurityEvent {
  const e = newEvent(time, ip, 'ssh', kind, 'test')
  e.user = user
  e.count = count
  return e
}

const PAGES = Array.from({ length: 60 }, (_, i) => `/docs/page-${i}`)
const ASSETS = ['/static/app.js', '/static/app.css', '/static/logo.png', '/favicon.ico']

/**
 * One person reading a site for `durationMs`: page views a few seconds to a minute apart, each followed by its
 * assets, mostly 200/304, an occasional 404 or search query.
 */
export function browsingSession(rand: Prng, ip: string, start: number, durationMs: number): SecurityEvent[] {
  const out: SecurityEvent[] = []
  let t = start
  while (t < start + durationMs) {
    const r = rand()
    const page = r < 0.1 ? `/search?q=${randomInt(rand, 1000)}` : PAGES[randomInt(rand, PAGES.length)]
    out.push(httpEvent(t, ip, page, { status: r > 0.97 ? 404 : 200, bytes: 8000 + randomInt(rand, 40_000) }))
    const assets = randomInt(rand, 3)
    for (let i = 0; i < assets; i++) {
      t += 20 + randomInt(rand, 200)
      out.push(
        httpEvent(t, ip, ASSETS[randomInt(rand, ASSETS.length)], {
          status: rand() < 0.5 ? 304 : 200,
          bytes: 2000,
        }),
      )
    }
    t += 2_000 + randomInt(rand, 25_000)
  }
  return out
}

/** A content scanner: `count` requests spread evenly over `durationMs`, nearly all to distinct missing paths. */
export function scannerBurst(ip: string, start: number, durationMs: number, count: number): SecurityEvent[] {
  const out: SecurityEvent[] = []
  for (let i = 0; i < count; i++) {
    const found = i % 50 === 0
    out.push(
      httpEvent(start + Math.floor((i * durationMs) / count), ip, `/probe-${i}/config.php`, {
        status: found ? 200 : 404,
        bytes: 150,
        userAgent: 'Mozilla/5.0 zgrab/0.x',
      }),
    )
  }
  return out
}

/** Merges per-address event lists into one stream in time order (stable). */
export function mergeByTime(...streams: SecurityEvent[][]): SecurityEvent[] {
  return streams.flat().sort((a, b) => a.time - b.time)
}
