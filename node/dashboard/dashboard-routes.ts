import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Hono } from 'hono'

const STATIC = join(import.meta.dirname, 'static')
const FILES: Record<string, string> = {
  'dashboard.js': 'text/javascript; charset=utf-8',
  'dashboard.css': 'text/css; charset=utf-8',
}

/**
 * The dashboard's page shell and assets: public, because they hold no data; every figure on the page is
 * fetched from the API with the token the viewer pastes (a `read` token is enough).
 */
export function dashboardRoutes(): Hono {
  // read once: three small files, served from memory
  const index = readFileSync(join(STATIC, 'index.html'), 'utf8')
  const assets = new Map(Object.keys(FILES).map((name) => [name, readFileSync(join(STATIC, name), 'utf8')]))
  const security = {
    'content-security-policy':
      "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  }
  return new Hono()
    .get('/', (c) => c.html(index, 200, security))
    .get('/ui/:file', (c) => {
      const name = c.req.param('file')
      const body = assets.get(name)
      if (body === undefined) return c.json({ error: { status: 404, message: `no asset ${name}` } }, 404)
      return c.body(body, 200, { 'content-type': FILES[name], 'cache-control': 'no-cache', ...security })
    })
}
