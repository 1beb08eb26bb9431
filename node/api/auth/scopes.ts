/** Token scopes: `admin` may do everything, `read` only GET/HEAD, `bouncer` only the CrowdSec bouncer routes. */
export const TOKEN_SCOPES = ['admin', 'read', 'bouncer'] as const
export type TokenScope = (typeof TOKEN_SCOPES)[number]

/** Routes any caller may reach: liveness, the API description, the dashboard's page shell. */
export function isPublicPath(path: string): boolean {
  return (
    path === '/healthz' ||
    path === '/openapi.json' ||
    path === '/docs' ||
    path === '/' ||
    path.startsWith('/ui/')
  )
}

export function isBouncerPath(path: string): boolean {
  return path === '/v1/decisions' || path.startsWith('/v1/decisions/') || path === '/v1/usage-metrics'
}

/**
 * The one authorization rule, a pure function so it can be tested exhaustively: what a scope may do with a
 * method and path. Writes always need `admin`; a `bouncer` token reaches `/v1/decisions*` and nothing else.
 */
export function scopeAllows(scope: TokenScope, method: string, path: string): boolean {
  if (isPublicPath(path)) return true
  if (scope === 'admin') return true
  const readOnly = method === 'GET' || method === 'HEAD'
  // bouncers also report usage metrics (CrowdSec LAPI's POST /v1/usage-metrics)
  if (scope === 'bouncer') return isBouncerPath(path) && (readOnly || path === '/v1/usage-metrics')
  // read: every GET except the bouncer routes, whose keys identify a bouncer for its stream cursor
  return readOnly && !path.startsWith('/v1/')
}
