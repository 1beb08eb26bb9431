import { detach } from '../scenarios/detach-string.ts'

/**
 * Cheap, frozen tests on one HTTP request for the feature vector. They deliberately do not reuse the scenario
 * engine's regexes (`scenarios/request-patterns.ts`): the vector feeds a model shared between nodes, so what
 * "sensitive" and "scanner-like" mean is part of feature schema version 1 and must not drift when a rule list
 * is tuned. Changing these lists means bumping `FEATURE_SCHEMA.version`.
 */

/** Substrings (of the lower-cased path) that only probes for secrets, admin panels or traversal ask for. */
export const SENSITIVE_PATH_MARKERS = [
  '/.env',
  '/.git',
  '/.svn',
  '/.ht', // .htaccess, .htpasswd
  '/.aws',
  '/.ssh',
  'id_rsa',
  'wp-login',
  'wp-admin',
  'wp-config',
  'xmlrpc.php',
  'phpmyadmin',
  '/admin',
  '/etc/passwd',
  '..',
  '%2e%2e',
  '/cgi-bin/',
  '/vendor/phpunit',
  '/actuator',
  '/server-status',
] as const

/** Substrings (of the lower-cased user agent) of HTTP libraries and scanners; browsers never send these. */
export const SCANNER_UA_MARKERS = [
  'curl/',
  'wget/',
  'python',
  'go-http-client',
  'libwww-perl',
  'zgrab',
  'masscan',
  'nmap',
  'nikto',
  'sqlmap',
  'nuclei',
  'gobuster',
  'dirbuster',
  'wpscan',
  'censys',
] as const

// One case-insensitive alternation of the literal markers: a single regex pass is 5-10x cheaper than twenty
// indexOf calls (each a runtime call), and matches exactly what "lower-cased path contains a marker" means.
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
const SENSITIVE = new RegExp(SENSITIVE_PATH_MARKERS.map(escape).join('|'), 'i')
const SCANNER_UA = new RegExp(SCANNER_UA_MARKERS.map(escape).join('|'), 'i')

export function isSensitivePath(path: string): boolean {
  return SENSITIVE.test(path)
}

/** An absent, empty or `-` user agent counts as scanner-like: every browser sends one. */
export function isScannerUserAgent(userAgent: string | undefined): boolean {
  if (userAgent === undefined || userAgent.length === 0 || userAgent === '-') return true
  return SCANNER_UA.test(userAgent)
}

// The same few paths and user agents come back endlessly, as the same string objects (the parsers intern
// them), whose hash V8 keeps: a Map lookup then costs far less than the regex. Bounded: text invented per
// request only ever costs the regex it would have cost anyway, plus a lookup. Keys are detached copies: a slice
// of a line kept as a key would keep its whole chunk of log text alive.
const CACHE_MAX = 4096
const CACHE_MAX_LENGTH = 256
const sensitiveCache = new Map<string, boolean>()
const scannerCache = new Map<string, boolean>()

/** `isSensitivePath`, remembered per path */
export function isSensitivePathCached(path: string): boolean {
  if (path.length > CACHE_MAX_LENGTH) return isSensitivePath(path)
  let verdict = sensitiveCache.get(path)
  if (verdict === undefined) {
    verdict = isSensitivePath(path)
    if (sensitiveCache.size >= CACHE_MAX) sensitiveCache.clear()
    sensitiveCache.set(detach(path), verdict)
  }
  return verdict
}

/** `isScannerUserAgent`, remembered per user agent */
export function isScannerUserAgentCached(userAgent: string | undefined): boolean {
  if (userAgent === undefined || userAgent.length > 2 * CACHE_MAX_LENGTH) return isScannerUserAgent(userAgent)
  let verdict = scannerCache.get(userAgent)
  if (verdict === undefined) {
    verdict = isScannerUserAgent(userAgent)
    if (scannerCache.size >= CACHE_MAX) scannerCache.clear()
    scannerCache.set(detach(userAgent), verdict)
  }
  return verdict
}
