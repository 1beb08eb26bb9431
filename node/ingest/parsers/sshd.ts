import type { EventKind, SecurityEvent } from '../event.ts'
import { ConnectionTable } from './connection-table.ts'
import { canonicalIp } from './ip.ts'
import { LocalTime } from './local-time.ts'
import { newEvent } from './new-event.ts'
import type { LineParser, ParseContext, ParseResult, ParserOptions } from './parser.ts'
import { UNPARSED } from './parser.ts'
import { isSshdProgram, newSyslogHeader, SyslogHeaderReader } from './syslog-header.ts'
import { YearTracker } from './year-tracker.ts'

/*
 * OpenSSH messages, from syslog, rsyslog (RFC 3339), RFC 5424 or the journal. Lines of other programs (cron,
 * sudo, systemd in auth.log) are irrelevant; an sshd message this file does not know is UNPARSED, so a new
 * OpenSSH wording shows up in the node's unparsed counter instead of silently passing. Messages prefixed with
 * `error:`/`fatal:`/`debugN:` that we do not know are operational noise and irrelevant.
 *
 * A message is recognised by its first character and a `startsWith` at the message offset. The frequent ones
 * (Failed, Invalid user, Received disconnect, Connection closed/reset, Disconnected, pam_unix) are then read by
 * hand with indexOf/charCodeAt; the rest by one sticky regex (lastIndex = the message offset, so no substring
 * of the line is made before we know it matters). Unusual shapes of the frequent ones fall back to their regex.
 *
 * Some failures carry no address (`Disconnecting: Too many authentication failures`, `kex_exchange_identification:
 * Connection closed by remote host`, `fatal: Read from socket failed`): a small bounded table from pid to the
 * last address seen for that pid (from `Connection from`, any failure, a pam rhost) attributes them; when the
 * address is not yet known the failure waits for the pid's next line that names it (`Connection closed by IP
 * port N`).
 */

const IP = String.raw`(\S+)`
const RE = {
  failed: new RegExp(
    String.raw`Failed (\S+) for (?:invalid user |illegal user )?(.*?) from ${IP}(?: port \d+)?(?: on \S+ port \d+)?(?: ssh\d*)?(?=$|: | \[preauth\]|\]|\s+$)`,
    'y',
  ),
  accepted: new RegExp(String.raw`Accepted (\S+) for (.*?) from ${IP}(?: port \d+)?`, 'y'),
  invalidUser: new RegExp(
    String.raw`(?:Invalid|Illegal) user (.*?) from ${IP}(?: port \d+)?\s*(?=$|\]|\[preauth\])`,
    'y',
  ),
  notAllowed: new RegExp(String.raw`User (.*?) from ${IP} not allowed because `, 'y'),
  maxAuth: new RegExp(
    String.raw`maximum authentication attempts exceeded for (?:invalid user )?(.*?) from ${IP}(?: port \d+)?`,
    'y',
  ),
  disconnecting: new RegExp(
    String.raw`Disconnecting (?:(?:authenticating |invalid )?user (.*) )?${IP} port \d+: `,
    'y',
  ),
  didNotReceive: new RegExp(String.raw`Did not receive identification string from ${IP}`, 'y'),
  badProtocol: /Bad protocol version identification .* from (\S+?)(?: port \d+)?\s*\]?$/y,
  protocolMajor: /Protocol major versions differ for (\S+?)(?: port \d+)?:/y,
  bannerExchange: /banner exchange: Connection from (\S+) port \d+: (.*)/y,
  unableToNegotiate: /Unable to negotiate with (\S+) port \d+: /y,
  dispatchFatal: new RegExp(
    String.raw`ssh_dispatch_run_fatal: Connection from (?:(?:authenticating |invalid )?user (.*) )?${IP} port \d+: `,
    'y',
  ),
  timeoutBeforeAuth: /Timeout before authentication for (?:connection from )?(\S+?)(?: port \d+)?(?:\s|,|$)/y,
  rootRefused: /ROOT LOGIN REFUSED FROM (\S+?)(?: port \d+)?(?:\s|$)/y,
  refusedConnect: /refused connect from .*\((\S+)\)/y,
  magicValue: /Magic value check failed \(\d+\) on obfuscated handshake from (\S+)/y,
  pamFailure: /PAM: [Aa]uthentication (?:failure|error) for (.*?) from (\S+)/y,
  pamUnknownUser:
    /PAM: User not known to the underlying authentication module for (?:illegal |invalid )?user (.*?) from (\S+)/y,
  connectionFrom: /Connection from (\S+) port \d+/y,
  ltypeRemote: /SSH: Server;Ltype: \w+;Remote: (\S+?)-\d+;/y,
  repeated: /message repeated (\d+) times: \[ ?/y,
}

/** messages that are sshd's own business: understood, never a client failure on their own */
const IRRELEVANT_PREFIXES = [
  'pam_',
  'PAM ',
  'input_userauth_request',
  'Postponed ',
  'Server listening',
  'Received signal',
  'Received SIGHUP',
  'Exiting on signal',
  'Starting session',
  'Close session',
  'session ',
  'subsystem request',
  'User child is on pid',
  'Transferred: ',
  'Found matching',
  'Accepted key',
  'Authentication tried',
  'Authorized to',
  'Set /proc',
  'reverse mapping checking', // DNS of the client's network is misconfigured: says nothing about the client
  'Address ', // "... maps to ..., but this does not map back": same
  'Nasty PTR record',
  'Changed root directory',
  'Timeout, client not responding',
  'Read error from remote host',
  'Attempt to write login records',
  'User ', // "User root not allowed because account is locked": no address
  'SSH: Server;',
  'Invalid user', // without an address (malformed): nothing to attribute
  'Disconnected from',
  'Disconnecting',
  'Connection closed by',
  'Connection reset by',
  'Received disconnect from',
  'rexec line',
  'Deprecated option',
  'Missing privilege separation directory',
  'Starting sshd',
  'sshd ',
  'Unable to negotiate',
  'Bad protocol',
  'Unsupported option',
  'Could not load host key',
  'syslogin_perform_logout',
  'lastlog_',
  'packet_write_wait',
  'Corrupted MAC on input',
  'Bad packet length',
  'drop connection #',
  'beginning MaxStartups throttling',
  'exited MaxStartups throttling',
  'srclimit_penalise',
] as const

/** the prefixes above by first character: one charCodeAt instead of fifty startsWith calls */
const IRRELEVANT_BY_FIRST_CHAR = new Map<number, string[]>()
for (const p of IRRELEVANT_PREFIXES) {
  const c = p.charCodeAt(0)
  const bucket = IRRELEVANT_BY_FIRST_CHAR.get(c)
  if (bucket === undefined) IRRELEVANT_BY_FIRST_CHAR.set(c, [p])
  else bucket.push(p)
}

const ERROR_PREFIX = 'error: '
const FATAL_PREFIX = 'fatal: '

export class SshdParser implements LineParser {
  readonly format: string
  readonly #reader: SyslogHeaderReader
  readonly #header = newSyslogHeader()
  readonly #source: string | undefined
  readonly #conns: ConnectionTable

  constructor(options: ParserOptions = {}, format = 'sshd') {
    this.format = format
    const years = options.yearTracker ?? new YearTracker({ year: options.year, reference: options.reference })
    this.#reader = new SyslogHeaderReader(
      years,
      new LocalTime({ utcOffsetMinutes: options.utcOffsetMinutes, timeZone: options.timeZone }),
    )
    this.#source = options.source
    this.#conns = new ConnectionTable(options.maxTrackedConnections ?? 4096)
  }

  parse(line: string, ctx?: ParseContext): ParseResult {
    const h = this.#header
    let m: number
    let pid: number
    let time: number
    if (this.#reader.read(line, h, ctx?.year)) {
      if (!isSshdProgram(line, h.progStart, h.progEnd)) return undefined
      m = h.msgStart
      pid = h.pid
      time = h.time
    } else {
      // a bare message (journalctl -o cat): only recognised sshd wording counts as understood
      m = 0
      pid = -1
      time = Number.NaN
    }
    if (time !== time) time = ctx?.now ?? Date.now()
    return this.#message(line, m, pid, time, ctx?.source ?? this.#source)
  }

  #message(line: string, m: number, pid: number, time: number, source: string | undefined): ParseResult {
    let prefixed = false
    let count = 1
    // strip `error: `, `fatal: `, Solaris `[ID 800047 auth.info] `, `kernel:[ 970.69]: `, repeat wrappers
    for (;;) {
      const c = line.charCodeAt(m)
      if (c === 101 /* e */ && line.startsWith(ERROR_PREFIX, m)) {
        m += 7
        prefixed = true
      } else if (c === 102 /* f */ && line.startsWith(FATAL_PREFIX, m)) {
        m += 7
        prefixed = true
      } else if (c === 91 /* [ */ && line.startsWith('[ID ', m)) {
        const close = line.indexOf('] ', m)
        if (close === -1) break
        m = close + 2
      } else if (c === 107 /* k */ && line.startsWith('kernel:', m)) {
        m += 7
        while (line.charCodeAt(m) === 32) m++
        if (line.charCodeAt(m) === 91) {
          const close = line.indexOf(']', m)
          if (close === -1) break
          m = close + 1
          if (line.charCodeAt(m) === 58) m++
          while (line.charCodeAt(m) === 32) m++
        }
      } else if (c === 109 /* m */ && line.startsWith('message repeated ', m)) {
        RE.repeated.lastIndex = m
        const r = RE.repeated.exec(line)
        if (r === null) break
        count = Number(r[1])
        m = RE.repeated.lastIndex
      } else if (c === 100 /* d */ && line.startsWith('debug', m)) {
        return undefined
      } else break
    }

    let r: RegExpExecArray | null
    let kind: EventKind | undefined
    switch (line.charCodeAt(m)) {
      case 70: // F
        if (line.startsWith('Failed ', m)) {
          // fast path for the one-" from " shape; anything cleverer goes to the regex
          const forAt = line.indexOf(' for ', m + 7)
          if (forAt !== -1) {
            let us = forAt + 5
            if (
              line.charCodeAt(us) === 105 /* i */ &&
              (line.startsWith('invalid user ', us) || line.startsWith('illegal user ', us))
            )
              us += 13
            const from = line.indexOf(' from ', us)
            if (from !== -1 && line.indexOf(' from ', from + 6) === -1) {
              const ipEnd = ipTail(line, from + 6)
              if (ipEnd !== -1) {
                const user = line.slice(us, from)
                return this.#emitIp(
                  canonicalIp(line, from + 6, ipEnd),
                  'auth_failure',
                  user,
                  time,
                  pid,
                  source,
                  count,
                  true,
                )
              }
            }
          }
          r = exec(RE.failed, line, m)
          if (r === null) return UNPARSED
          return this.#emit(r[3], 'auth_failure', r[2], time, pid, source, count, true)
        }
        break
      case 65: // A
        if (line.startsWith('Accepted ', m)) {
          r = exec(RE.accepted, line, m)
          if (r === null) return UNPARSED
          const slot = pid >= 0 ? this.#conns.find(pid) : -1
          if (slot !== -1) {
            this.#conns.clearPam(slot)
            this.#conns.setPending(slot, undefined, 0)
          }
          return this.#emit(r[3], 'auth_success', r[2], time, -1, source, count, false)
        }
        if (
          line.startsWith('Address ', m) ||
          line.startsWith('Accepted key', m) ||
          line.startsWith('Authori', m)
        )
          return undefined
        break
      case 73: // I
        if (line.startsWith('Invalid user ', m) || line.startsWith('Illegal user ', m)) {
          const us = m + 13
          const from = line.indexOf(' from ', us)
          if (from !== -1 && line.indexOf(' from ', from + 6) === -1) {
            const ipEnd = ipTail(line, from + 6)
            if (ipEnd !== -1) {
              const user = line.slice(us, from)
              return this.#emitIp(
                canonicalIp(line, from + 6, ipEnd),
                'invalid_user',
                user,
                time,
                pid,
                source,
                count,
                false,
              )
            }
          }
          r = exec(RE.invalidUser, line, m)
          if (r === null) return undefined
          return this.#emit(r[2], 'invalid_user', r[1], time, pid, source, count, false)
        }
        break
      case 85: // U
        if (line.startsWith('User ', m)) {
          r = exec(RE.notAllowed, line, m)
          if (r === null) return undefined
          return this.#emit(r[2], 'invalid_user', r[1], time, pid, source, count, false)
        }
        if (line.startsWith('Unable to negotiate', m)) {
          r = exec(RE.unableToNegotiate, line, m)
          if (r !== null) return this.#emit(r[1], 'bad_protocol', undefined, time, pid, source, count, false)
          return this.#fromPid('bad_protocol', time, pid, source) // "Unable to negotiate a key exchange method"
        }
        break
      case 67: // C
        if (line.startsWith('Connection ', m)) {
          if (line.startsWith('from ', m + 11)) {
            r = exec(RE.connectionFrom, line, m)
            if (r !== null) return this.#remember(pid, r[1], time, source, true)
            return undefined
          }
          if (line.startsWith('closed by ', m + 11) || line.startsWith('reset by ', m + 11))
            return this.#closed(line, m, time, pid, source, count)
        }
        if (
          line.startsWith('Close session', m) ||
          line.startsWith('Corrupted MAC', m) ||
          line.startsWith('Changed root', m)
        )
          return undefined
        break
      case 68: // D
        if (line.startsWith('Disconnected from ', m)) return this.#closed(line, m, time, pid, source, count)
        if (line.startsWith('Disconnecting', m)) {
          if (line.startsWith(': Too many authentication failures', m + 13))
            return this.#fromPid('max_auth_exceeded', time, pid, source)
          r = exec(RE.disconnecting, line, m)
          if (r !== null) return this.#emit(r[2], 'preauth_disconnect', r[1], time, pid, source, count, false)
          return undefined
        }
        if (line.startsWith('Did not receive identification string', m)) {
          r = exec(RE.didNotReceive, line, m)
          if (r !== null)
            return this.#emit(r[1], 'no_identification', undefined, time, pid, source, count, false)
          return this.#fromPid('no_identification', time, pid, source)
        }
        if (line.startsWith('Deprecated', m)) return undefined
        break
      case 82: // R
        if (line.startsWith('Received disconnect from ', m)) {
          // `from IP port N:CODE: text` (OpenSSH >= 7.5) or `from IP: CODE: text`
          const ipStart = m + 25
          let ipEnd = line.indexOf(' ', ipStart)
          let k = -1
          if (ipEnd !== -1) {
            if (line.startsWith(' port ', ipEnd)) {
              k = ipEnd + 6
              while (isDigitAt(line, k)) k++
              if (line.charCodeAt(k) === 58) k += line.charCodeAt(k + 1) === 32 ? 2 : 1
              else k = -1
            } else if (line.charCodeAt(ipEnd - 1) === 58) {
              ipEnd--
              k = ipEnd + 2
            }
          }
          if (k === -1) return undefined
          let code = 0
          while (isDigitAt(line, k)) code = code * 10 + line.charCodeAt(k++) - 48
          if (endsWithPreauth(line, count)) kind = 'preauth_disconnect'
          else if (code === 3 && line.indexOf('Auth fail', k) !== -1) kind = 'auth_failure'
          else if (code === 14) kind = 'preauth_disconnect'
          const ip = canonicalIp(line, ipStart, ipEnd)
          if (kind === undefined)
            return ip === undefined ? undefined : this.#rememberIp(pid, ip, time, source, false)
          return this.#emitIp(ip, kind, undefined, time, pid, source, count, false)
        }
        if (line.startsWith('ROOT LOGIN REFUSED FROM ', m)) {
          r = exec(RE.rootRefused, line, m)
          if (r === null) return UNPARSED
          return this.#emit(r[1], 'auth_failure', 'root', time, pid, source, count, false)
        }
        if (line.startsWith('Read from socket failed: Connection reset by peer', m))
          return this.#fromPid('preauth_disconnect', time, pid, source)
        break
      case 66: // B
        if (line.startsWith('Bad protocol version identification', m)) {
          r = exec(RE.badProtocol, line, m)
          if (r !== null) return this.#emit(r[1], 'bad_protocol', undefined, time, pid, source, count, false)
          return this.#fromPid('bad_protocol', time, pid, source)
        }
        break
      case 80: // P
        if (line.startsWith('PAM: ', m)) {
          r = exec(RE.pamFailure, line, m)
          if (r !== null) return this.#emit(r[2], 'auth_failure', r[1], time, pid, source, count, false)
          r = exec(RE.pamUnknownUser, line, m)
          if (r !== null) return this.#emit(r[2], 'invalid_user', r[1], time, pid, source, count, false)
          return undefined
        }
        if (line.startsWith('Protocol major versions differ', m)) {
          r = exec(RE.protocolMajor, line, m)
          if (r !== null) return this.#emit(r[1], 'bad_protocol', undefined, time, pid, source, count, false)
          return this.#fromPid('bad_protocol', time, pid, source)
        }
        break
      case 112: // p
        if (line.startsWith('pam_', m)) return this.#pam(line, m, time, pid, source)
        break
      case 84: // T
        if (line.startsWith('Timeout before authentication', m)) {
          r = exec(RE.timeoutBeforeAuth, line, m)
          if (r !== null)
            return this.#emit(r[1], 'preauth_disconnect', undefined, time, pid, source, count, false)
          return this.#fromPid('preauth_disconnect', time, pid, source)
        }
        break
      case 98: // b
        if (line.startsWith('banner exchange: ', m)) {
          r = exec(RE.bannerExchange, line, m)
          if (r === null) return this.#fromPid('bad_protocol', time, pid, source)
          kind = r[2].startsWith('invalid format') ? 'bad_protocol' : 'no_identification'
          return this.#emit(r[1], kind, undefined, time, pid, source, count, false)
        }
        break
      case 107: // k
        if (line.startsWith('kex_exchange_identification: ', m)) {
          kind = line.startsWith('client sent invalid protocol identifier', m + 29)
            ? 'bad_protocol'
            : 'no_identification'
          if (line.startsWith('banner line too long', m + 29)) kind = 'bad_protocol'
          return this.#fromPid(kind, time, pid, source)
        }
        if (line.startsWith('kex_', m)) return undefined
        break
      case 115: // s
        if (line.startsWith('ssh_dispatch_run_fatal: ', m)) {
          r = exec(RE.dispatchFatal, line, m)
          if (r !== null) return this.#emit(r[2], 'bad_protocol', r[1], time, pid, source, count, false)
          return this.#fromPid('bad_protocol', time, pid, source)
        }
        break
      case 109: // m
        if (line.startsWith('maximum authentication attempts exceeded', m)) {
          r = exec(RE.maxAuth, line, m)
          if (r !== null) return this.#emit(r[2], 'max_auth_exceeded', r[1], time, pid, source, count, false)
          return this.#fromPid('max_auth_exceeded', time, pid, source)
        }
        break
      case 110: // n
        if (line.startsWith('no matching ', m) || line.startsWith('no hostkey alg', m))
          return this.#fromPid('bad_protocol', time, pid, source)
        break
      case 114: // r
        if (line.startsWith('refused connect from ', m)) {
          r = exec(RE.refusedConnect, line, m)
          if (r !== null)
            return this.#emit(r[1], 'preauth_disconnect', undefined, time, pid, source, count, false)
          return undefined
        }
        break
      case 77: // M
        if (line.startsWith('Magic value check failed', m)) {
          r = exec(RE.magicValue, line, m)
          if (r !== null) return this.#emit(r[1], 'bad_protocol', undefined, time, pid, source, count, false)
          return undefined
        }
        break
      case 87: // W
        if (line.startsWith('Write failed: Connection reset by peer', m))
          return this.#fromPid('preauth_disconnect', time, pid, source)
        break
      case 83: // S
        if (line.startsWith('SSH: Server;Ltype: ', m)) {
          r = exec(RE.ltypeRemote, line, m)
          if (r !== null) return this.#remember(pid, r[1], time, source, true)
          return undefined
        }
        break
    }
    const bucket = IRRELEVANT_BY_FIRST_CHAR.get(line.charCodeAt(m))
    if (bucket !== undefined) for (const p of bucket) if (line.startsWith(p, m)) return undefined
    if (prefixed) return undefined
    return UNPARSED
  }

  /**
   * Connection closed/reset by, Disconnected from: a failure only before authentication. Read from the end
   * (`[user X ]IP[ port N][ [preauth]]`), so a user name made of addresses cannot move the client.
   */
  #closed(
    line: string,
    m: number,
    time: number,
    pid: number,
    source: string | undefined,
    count: number,
  ): ParseResult {
    let e = line.length
    while (e > m && line.charCodeAt(e - 1) === 32) e--
    if (count !== 1 && line.charCodeAt(e - 1) === 93 && line.charCodeAt(e - 2) === 93) e-- // repeat wrapper
    const preauth = line.startsWith(' [preauth]', e - 10)
    if (preauth) e -= 10
    let ipEnd = e
    const port = line.lastIndexOf(' port ', e)
    if (port > m && port + 6 < e) {
      let k = port + 6
      while (k < e && isDigitAt(line, k)) k++
      if (k === e) ipEnd = port
    }
    const ipStart = line.lastIndexOf(' ', ipEnd - 1) + 1
    const ip = ipStart > m ? canonicalIp(line, ipStart, ipEnd) : undefined
    if (!preauth) return ip === undefined ? undefined : this.#rememberIp(pid, ip, time, source, false)
    if (ip === undefined) return this.#fromPid('preauth_disconnect', time, pid, source)
    // between the fixed words and the address: nothing, or `[authenticating |invalid ]user NAME`
    const words = line.charCodeAt(m) === 68 ? m + 18 : line.charCodeAt(m + 11) === 99 ? m + 21 : m + 20
    let user: string | undefined
    if (ipStart - 1 > words) {
      let us = words
      if (line.startsWith('authenticating ', us)) us += 15
      else if (line.startsWith('invalid ', us)) us += 8
      if (line.startsWith('user ', us)) user = line.slice(us + 5, ipStart - 1)
    }
    return this.#emitIp(ip, 'preauth_disconnect', user, time, pid, source, count, false)
  }

  /** pam_unix(sshd:auth) and friends */
  #pam(line: string, m: number, time: number, pid: number, source: string | undefined): ParseResult {
    const paren = line.startsWith('pam_unix(sshd:auth): authentication failure;', m)
      ? m + 8
      : line.indexOf('(sshd:auth): authentication failure;', m)
    if (paren === -1 || paren > m + 24) return undefined
    const rh = line.indexOf('rhost=', paren)
    if (rh === -1) return undefined
    let end = line.indexOf(' ', rh)
    if (end === -1) end = line.length
    const ip = canonicalIp(line, rh + 6, end)
    if (ip === undefined) return undefined
    let user = fieldValue(line, ' user=', rh)
    if (user === undefined || user === '') user = fieldValue(line, 'ruser=', paren)
    if (user === '') user = undefined
    if (pid < 0) return undefined
    // A first pam failure is usually followed by sshd's "Failed password" for the same try, which is what we
    // count; with stacked pam modules it can even precede a success. A second failure for another user on the
    // same connection before any "Failed" line is a real, uncounted try: emit it.
    const conns = this.#conns
    const slot = conns.claim(pid)
    conns.setIp(slot, ip)
    if (conns.pamPending(slot) && conns.pamUser(slot) !== user) {
      conns.setPam(slot, true, user)
      const ev = newEvent(time, ip, 'ssh', 'auth_failure', source)
      ev.user = user
      return ev
    }
    conns.setPam(slot, true, user)
    return undefined
  }

  /** irrelevant line that names the pid's address: remember it, and release a failure waiting for it */
  #remember(
    pid: number,
    ipText: string,
    time: number,
    source: string | undefined,
    create: boolean,
  ): ParseResult {
    if (pid < 0) return undefined
    if (!create && this.#conns.find(pid) === -1) return undefined
    const ip = canonicalIp(ipText)
    if (ip === undefined) return undefined
    return this.#rememberIp(pid, ip, time, source, create)
  }

  #rememberIp(
    pid: number,
    ip: string,
    time: number,
    source: string | undefined,
    create: boolean,
  ): ParseResult {
    if (pid < 0) return undefined
    const conns = this.#conns
    let slot = conns.find(pid)
    if (slot === -1) {
      if (!create) return undefined
      slot = conns.claim(pid)
    }
    conns.setIp(slot, ip)
    const waiting = conns.pendingKind(slot)
    if (waiting === undefined) return undefined
    const pendingTime = conns.pendingTime(slot)
    conns.setPending(slot, undefined, 0)
    return newEvent(pendingTime > 0 ? pendingTime : time, ip, 'ssh', waiting, source)
  }

  /** a failure whose line has no address: use the pid's, or wait for it */
  #fromPid(kind: EventKind, time: number, pid: number, source: string | undefined): ParseResult {
    if (pid < 0) return undefined
    const conns = this.#conns
    const slot = conns.claim(pid)
    const ip = conns.ip(slot)
    if (ip !== undefined) return newEvent(time, ip, 'ssh', kind, source)
    conns.setPending(slot, kind, time)
    return undefined
  }

  #emit(
    ipText: string,
    kind: EventKind,
    user: string | undefined,
    time: number,
    pid: number,
    source: string | undefined,
    count: number,
    clearsPam: boolean,
  ): SecurityEvent | undefined {
    return this.#emitIp(canonicalIp(ipText), kind, user, time, pid, source, count, clearsPam)
  }

  #emitIp(
    ip: string | undefined,
    kind: EventKind,
    user: string | undefined,
    time: number,
    pid: number,
    source: string | undefined,
    count: number,
    clearsPam: boolean,
  ): SecurityEvent | undefined {
    if (ip === undefined) return undefined // a host name: we never resolve
    if (pid >= 0 && kind !== 'auth_success') {
      const conns = this.#conns
      const slot = conns.claim(pid)
      conns.setIp(slot, ip)
      conns.setPending(slot, undefined, 0)
      if (clearsPam) conns.clearPam(slot)
    }
    const ev = newEvent(time, ip, 'ssh', kind, source)
    if (user !== undefined) ev.user = user
    if (count !== 1) ev.count = count
    return ev
  }
}

function isDigitAt(line: string, i: number): boolean {
  const c = line.charCodeAt(i)
  return c >= 48 && c <= 57
}

/**
 * End of the address starting at `ipStart` when what follows is sshd's usual tail: `[ port N][ sshN]` then the
 * end of the line, `: ` (auth info), ` [preauth]` or `]` (a repeat wrapper); -1 otherwise.
 */
function ipTail(line: string, ipStart: number): number {
  const len = line.length
  let ipEnd = line.indexOf(' ', ipStart)
  if (ipEnd === -1) ipEnd = line.charCodeAt(len - 1) === 93 ? len - 1 : len
  let k = ipEnd
  if (line.charCodeAt(k + 1) === 112 /* p */ && line.startsWith(' port ', k)) {
    k += 6
    const d = k
    while (isDigitAt(line, k)) k++
    if (k === d) return -1
  }
  if (line.charCodeAt(k + 1) === 115 /* s */ && line.startsWith(' ssh', k)) {
    k += 4
    while (isDigitAt(line, k)) k++
  }
  if (k >= len - 1) return k === len || line.charCodeAt(k) === 93 || line.charCodeAt(k) === 32 ? ipEnd : -1
  const c = line.charCodeAt(k)
  if (c === 58 && line.charCodeAt(k + 1) === 32) return ipEnd
  if (c === 93) return ipEnd
  if (c === 32 && (line.startsWith(' [preauth]', k) || line.trimEnd().length === k)) return ipEnd
  return -1
}

/** whether the message ends with `[preauth]` (trailing spaces and a repeat wrapper's `]` allowed) */
function endsWithPreauth(line: string, count: number): boolean {
  let e = line.length
  while (e > 0 && line.charCodeAt(e - 1) === 32) e--
  if (count !== 1 && line.charCodeAt(e - 1) === 93 && line.charCodeAt(e - 2) === 93) e--
  return line.startsWith('[preauth]', e - 9)
}

function exec(re: RegExp, line: string, at: number): RegExpExecArray | null {
  re.lastIndex = at
  return re.exec(line)
}

/** value of `key` (e.g. ` user=`) up to the next space, searching from `from` */
function fieldValue(line: string, key: string, from: number): string | undefined {
  const k = line.indexOf(key, from)
  if (k === -1) return undefined
  const start = k + key.length
  let end = line.indexOf(' ', start)
  if (end === -1) end = line.length
  return line.slice(start, end)
}
