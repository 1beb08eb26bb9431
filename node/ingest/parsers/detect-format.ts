import { AccessLogParser } from './access-log.ts'
import { LocalTime } from './local-time.ts'
import { UNPARSED } from './parser.ts'
import { SshdParser } from './sshd.ts'
import { isSshdProgram, newSyslogHeader, SyslogHeaderReader } from './syslog-header.ts'
import { YearTracker } from './year-tracker.ts'

const NGINX_ERROR = /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d \[\w+\] \d+#\d+: /
const NGINX_ERROR_INSIDE = /\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d \[\w+\] \d+#\d+: /
const APACHE_ERROR = /^\[\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d(?:\.\d+)? \d{4}\] \[/
const MAX_SAMPLE = 200

/**
 * Guess the format of a file from its first lines (`auto` in the configuration). Returns a `createParser`
 * format name, or undefined when nothing fits at least a third of the non-empty lines. Access logs come back
 * as `nginx` (the same parser serves `apache`); a file mixing access and nginx error lines is `nginx`, whose
 * parser takes both. An auth.log where sshd shares the file with cron and sudo is `sshd`.
 */
export function detectFormat(sampleLines: readonly string[]): string | undefined {
  const access = new AccessLogParser()
  const sshd = new SshdParser({ year: 2000 })
  const reader = new SyslogHeaderReader(new YearTracker({ year: 2000 }), new LocalTime())
  const h = newSyslogHeader()
  const votes = {
    sshd: 0,
    nginx: 0,
    'nginx-error': 0,
    'apache-error': 0,
    json: 0,
    traefik: 0,
    cowrie: 0,
  }
  let otherSyslog = 0
  let lines = 0
  for (const raw of sampleLines.slice(0, MAX_SAMPLE)) {
    const line = raw.trim()
    if (line === '') continue
    lines++
    if (line.charCodeAt(0) === 123 /* { */) {
      const flavour = jsonFlavour(line)
      if (flavour !== undefined) votes[flavour]++
      continue
    }
    if (NGINX_ERROR.test(line)) {
      votes['nginx-error']++
      continue
    }
    if (APACHE_ERROR.test(line)) {
      votes['apache-error']++
      continue
    }
    const a = access.parse(line)
    if (a !== undefined && a !== UNPARSED && a.kind === 'http_request') {
      votes.nginx++
      continue
    }
    if (reader.read(line, h)) {
      const prog = line.slice(h.progStart, h.progEnd)
      if (isSshdProgram(line, h.progStart, h.progEnd)) votes.sshd++
      else if (/^(?:httpd|apache2?)(?:\/|$)/.test(prog) && line.charCodeAt(h.msgStart) === 91)
        votes['apache-error']++
      else if (prog === 'nginx' && NGINX_ERROR_INSIDE.test(line)) votes['nginx-error']++
      else otherSyslog++
      continue
    }
    if (sshd.parse(line) !== UNPARSED) votes.sshd++ // bare sshd messages (journalctl -o cat)
  }
  if (lines === 0) return undefined
  if (votes.nginx > 0 && votes['nginx-error'] > 0) {
    votes.nginx += votes['nginx-error']
    votes['nginx-error'] = 0
  }
  if (votes.sshd > 0) votes.sshd += otherSyslog
  let best: string | undefined
  let bestVotes = 0
  for (const [format, n] of Object.entries(votes)) {
    if (n > bestVotes) {
      best = format
      bestVotes = n
    }
  }
  return bestVotes * 3 >= lines ? best : undefined
}

function jsonFlavour(line: string): 'traefik' | 'cowrie' | 'json' | undefined {
  let v: unknown
  try {
    v = JSON.parse(line)
  } catch {
    return undefined
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined
  const rec = v as Record<string, unknown>
  if ('ClientHost' in rec && 'RequestMethod' in rec) return 'traefik'
  if (typeof rec.eventid === 'string' && rec.eventid.startsWith('cowrie.')) return 'cowrie'
  return 'json'
}
