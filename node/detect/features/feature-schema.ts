/**
 * The per-address window feature vector, version 1. The isolation forest scores it and the federated model will
 * train on it across nodes, so the order and meaning of every feature is a wire contract: append or change a
 * feature only by bumping `version`. Every feature is scale-robust so one node's busy site does not dwarf
 * another's: counts, rates and sizes go through log1p, proportions are ratios in 0..1.
 *
 * A window is one address's events over a tumbling window (60 s by default) opened by its first event. Ratios
 * whose denominator is empty (no HTTP requests in an ssh-only window, say) are 0.
 */
export const FEATURE_SCHEMA = {
  version: 1,
  names: [
    'events_log',
    'rate_per_min_log',
    'error_ratio',
    'http_404_ratio',
    'http_5xx_ratio',
    'distinct_path_ratio',
    'distinct_users_log',
    'ssh_auth_failure_ratio',
    'ssh_invalid_user_ratio',
    'ssh_preauth_ratio',
    'interarrival_mean_log',
    'interarrival_cv_log',
    'query_ratio',
    'path_length_norm',
    'non_get_ratio',
    'scanner_ua_ratio',
    'bytes_per_request_log',
    'sensitive_path_ratio',
    'ssh_share',
  ] as const,
} as const

export type FeatureName = (typeof FEATURE_SCHEMA.names)[number]
export const FEATURE_COUNT = FEATURE_SCHEMA.names.length

/** how a stored value maps back to something a person reads */
export type FeatureScale = 'log1p' | 'ratio' | 'length256'

export interface FeatureDoc {
  /** short human label for reasons, e.g. `requests/min` */
  label: string
  scale: FeatureScale
  doc: string
}

export const FEATURE_DOCS: Record<FeatureName, FeatureDoc> = {
  events_log: {
    label: 'events',
    scale: 'log1p',
    doc: 'log1p(events in the window); repeated-message events count `count` times',
  },
  rate_per_min_log: {
    label: 'events/min',
    scale: 'log1p',
    doc: 'log1p(events per minute while active: 60 * events / max(last - first event, 10 s)), so bursts show',
  },
  error_ratio: {
    label: 'errors',
    scale: 'ratio',
    doc: 'events that failed (HTTP status >= 400, auth failures, every non-success ssh kind) / all events',
  },
  http_404_ratio: {
    label: '404 responses',
    scale: 'ratio',
    doc: 'HTTP requests answered 404 / HTTP requests',
  },
  http_5xx_ratio: {
    label: '5xx responses',
    scale: 'ratio',
    doc: 'HTTP requests answered 5xx / HTTP requests',
  },
  distinct_path_ratio: {
    label: 'distinct paths',
    scale: 'ratio',
    doc: 'distinct paths (with query) / HTTP requests, distinct count estimated by linear counting on 1024 bits',
  },
  distinct_users_log: {
    label: 'distinct users',
    scale: 'log1p',
    doc: 'log1p(distinct user names tried), estimated by linear counting on 256 bits',
  },
  ssh_auth_failure_ratio: {
    label: 'ssh auth failures',
    scale: 'ratio',
    doc: 'ssh auth_failure events / ssh events',
  },
  ssh_invalid_user_ratio: {
    label: 'ssh invalid users',
    scale: 'ratio',
    doc: 'ssh invalid_user events / ssh events',
  },
  ssh_preauth_ratio: {
    label: 'ssh pre-auth drops',
    scale: 'ratio',
    doc: 'ssh sessions ended before auth (preauth_disconnect, no_identification, bad_protocol) / ssh events',
  },
  interarrival_mean_log: {
    label: 'seconds between events',
    scale: 'log1p',
    doc: 'log1p(mean seconds between consecutive events); a lone event counts as one gap of the window length',
  },
  interarrival_cv_log: {
    label: 'inter-arrival CV',
    scale: 'log1p',
    doc: 'log1p(std / mean of the gaps): ~0.7 (CV 1) for people and Poisson-like traffic, near 0 for timers; 1 when there are fewer than 2 gaps, 0 when all gaps are 0',
  },
  query_ratio: {
    label: 'requests with a query',
    scale: 'ratio',
    doc: 'HTTP requests whose path has a `?` / HTTP requests',
  },
  path_length_norm: {
    label: 'mean path length',
    scale: 'length256',
    doc: 'mean over HTTP requests of min(path length, 256) / 256',
  },
  non_get_ratio: {
    label: 'non-GET/HEAD requests',
    scale: 'ratio',
    doc: 'HTTP requests not GET or HEAD / HTTP requests',
  },
  scanner_ua_ratio: {
    label: 'scanner-like user agents',
    scale: 'ratio',
    doc: 'HTTP requests with an empty or tool user agent (SCANNER_UA_MARKERS) / HTTP requests',
  },
  bytes_per_request_log: {
    label: 'bytes/request',
    scale: 'log1p',
    doc: 'log1p(mean response bytes per HTTP request)',
  },
  sensitive_path_ratio: {
    label: 'sensitive paths',
    scale: 'ratio',
    doc: 'HTTP requests for secrets, admin panels or traversal (SENSITIVE_PATH_MARKERS) / HTTP requests',
  },
  ssh_share: {
    label: 'ssh share',
    scale: 'ratio',
    doc: 'ssh events / all events (0 for web-only, 1 for ssh-only)',
  },
}

/** The value as a person reads it: `events/min 340`, `404 responses 95%`. */
export function formatFeature(name: FeatureName, value: number): string {
  const { label, scale } = FEATURE_DOCS[name]
  return `${label} ${formatFeatureValue(scale, value)}`
}

export function formatFeatureValue(scale: FeatureScale, value: number): string {
  if (scale === 'ratio') return `${Math.round(value * 100)}%`
  if (scale === 'length256') return `${Math.round(value * 256)} chars`
  const v = Math.expm1(value)
  if (Math.abs(v) >= 100) return Math.round(v).toLocaleString('en-US')
  if (Math.abs(v) >= 10) return v.toFixed(0)
  return Number(v.toPrecision(2)).toString()
}
