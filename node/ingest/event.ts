/**
 * One security-relevant thing a guarded service did, as every parser emits it and every detector reads it.
 * A flat object with optional fields (rather than a union of classes) keeps parsing allocation-light on the
 * hot path: a million lines a second leaves about a microsecond per line.
 */
export type ServiceKind = 'ssh' | 'http' | 'other'

export const EVENT_KINDS = [
  // ssh
  'auth_failure', // wrong password / key for a real or unknown user
  'invalid_user', // user does not exist
  'preauth_disconnect', // connection closed or reset before authentication completed
  'no_identification', // client never sent an SSH identification string (port scanners)
  'bad_protocol', // protocol mismatch, bad key exchange, no matching cipher / host key type
  'max_auth_exceeded', // too many authentication failures for one connection
  'auth_success', // accepted password / publickey (useful to reset counters, never an attack on its own)
  // http
  'http_request', // one access-log request line
  'http_auth_failure', // basic-auth / application login failure reported by the server
  'http_error', // error-log line about a client (denied, script not found, ...)
  'http_rate_limited', // the web server itself throttled this client (nginx limit_req / limit_conn)
  // pushed / generic
  'generic_failure',
] as const
export type EventKind = (typeof EVENT_KINDS)[number]

export interface SecurityEvent {
  /** milliseconds since the Unix epoch, taken from the log line (replay) or the arrival time (live) */
  time: number
  /** the client address in canonical textual form (IPv4 dotted quad or RFC 5952 IPv6) */
  ip: string
  service: ServiceKind
  kind: EventKind
  /** user name tried, for auth events */
  user?: string
  /** HTTP fields, for http_request (and http_error where known) */
  method?: string
  path?: string
  status?: number
  bytes?: number
  userAgent?: string
  referer?: string
  /** the configured source (file path or `api`) the event came from */
  source?: string
  /**
   * how many identical occurrences this one event stands for: syslog daemons compress repeats into
   * `message repeated 5 times: [ Failed password for root from ... ]` (rsyslog's RepeatedMsgReduction, on by
   * default on Debian/Ubuntu). Absent means 1.
   */
  count?: number
}
