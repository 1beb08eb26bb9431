import type { JsonMapping } from './parser.ts'

/**
 * Traefik's JSON access log (`accessLog.format: json`). `request_User-Agent` / `request_Referer` exist only when
 * Traefik is told to keep those headers (`accessLog.fields.headers`). `ClientHost` can be a forwarded list
 * (`192.168.1.100,10.0.0.50`): the first entry is the client. `StartUTC` has nanoseconds, `time` is the
 * fallback.
 */
export const TRAEFIK: JsonMapping = {
  fields: {
    time: ['StartUTC', 'time', 'StartLocal'],
    ip: ['ClientHost', 'ClientAddr'],
    user: 'ClientUsername',
    method: 'RequestMethod',
    path: 'RequestPath',
    status: ['DownstreamStatus', 'OriginStatus'],
    bytes: ['DownstreamContentSize', 'OriginContentSize'],
    userAgent: 'request_User-Agent',
    referer: 'request_Referer',
  },
  defaultKind: 'http_request',
  service: 'http',
}

/**
 * Cowrie honeypot JSON (`cowrie.json`). Every connection to a honeypot is hostile, so a connect is reported as
 * a pre-auth event; failed logins are auth failures. A "successful" login only means the honeypot let the
 * attacker in: it is mapped to auth_success as the pipeline specifies, so detectors must not let a success reset
 * counters for a honeypot source.
 */
export const COWRIE: JsonMapping = {
  fields: {
    time: 'timestamp',
    ip: 'src_ip',
    kind: 'eventid',
    user: 'username',
  },
  kinds: {
    'cowrie.session.connect': 'preauth_disconnect',
    'cowrie.login.failed': 'auth_failure',
    'cowrie.login.success': 'auth_success',
  },
  defaultKind: null,
  service: 'ssh',
}

export const JSON_PRESETS: Readonly<Record<string, JsonMapping>> = {
  traefik: TRAEFIK,
  cowrie: COWRIE,
}
