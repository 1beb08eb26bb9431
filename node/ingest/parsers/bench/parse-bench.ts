/**
 * Parser micro-benchmark: ~1M synthetic sshd lines and ~1M nginx combined lines, generated in memory from a fixed
 * seed, then parsed a few times; prints lines/s per parser (best and median of the timed runs).
 *
 *   npx node node/ingest/parsers/bench/parse-bench.ts [lines=1000000] [runs=5]
 *
 * The sshd mix imitates an internet-facing server (LabSZ in loghub): mostly failed passwords, invalid users,
 * pam noise and pre-auth disconnects, some housekeeping and other programs. The nginx mix is ordinary traffic
 * with a few scanners, IPv6 clients and TLS garbage.
 */
import { createParser } from '../index.ts'
import type { LineParser } from '../parser.ts'
import { UNPARSED } from '../parser.ts'
import { mulberry32 } from '../../../detect/features/prng.ts'

const N = Number(process.argv[2] ?? 1_000_000)
const RUNS = Number(process.argv[3] ?? 5)

const rnd = mulberry32(0x5eed)
const int = (n: number) => Math.floor(rnd() * n)
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const pad = (n: number) => (n < 10 ? `0${n}` : `${n}`)
const ipv4 = () => `${1 + int(223)}.${int(256)}.${int(256)}.${1 + int(254)}`
const ipv6 = () => `2001:db8:${int(0xffff).toString(16)}::${int(0xffff).toString(16)}`
// attackers come back: draw most addresses from a pool
const POOL = Array.from({ length: 5000 }, () => (rnd() < 0.05 ? ipv6() : ipv4()))
const addr = () => (rnd() < 0.9 ? pick(POOL) : ipv4())
const USERS = [
  'root',
  'admin',
  'test',
  'oracle',
  'ubuntu',
  'user',
  'git',
  'postgres',
  'pi',
  'guest',
  'ftp',
  'deploy',
]

function sshdLines(n: number): string[] {
  const out = new Array<string>(n)
  let sec = 0
  for (let i = 0; i < n; i++) {
    sec += int(3)
    const day = 1 + (Math.floor(sec / 86_400) % 28)
    const s = sec % 86_400
    const ts = `${MONTHS[Math.floor(sec / (86_400 * 28)) % 12]} ${day < 10 ? ` ${day}` : day} ${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`
    const pid = 1000 + int(60_000)
    const h = `${ts} LabSZ sshd[${pid}]: `
    const ip = addr()
    const port = 1024 + int(60_000)
    const user = pick(USERS)
    const r = rnd()
    if (r < 0.26) out[i] = `${h}Failed password for ${user} from ${ip} port ${port} ssh2`
    else if (r < 0.36) out[i] = `${h}Failed password for invalid user ${user} from ${ip} port ${port} ssh2`
    else if (r < 0.46) out[i] = `${h}Invalid user ${user} from ${ip} port ${port}`
    else if (r < 0.56)
      out[i] =
        `${h}pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=${ip}  user=${user}`
    else if (r < 0.66) out[i] = `${h}Received disconnect from ${ip} port ${port}:11: Bye Bye [preauth]`
    else if (r < 0.71)
      out[i] = `${h}Connection closed by authenticating user ${user} ${ip} port ${port} [preauth]`
    else if (r < 0.76) out[i] = `${h}input_userauth_request: invalid user ${user} [preauth]`
    else if (r < 0.8) out[i] = `${h}pam_unix(sshd:auth): check pass; user unknown`
    else if (r < 0.84)
      out[i] =
        `${h}reverse mapping checking getaddrinfo for host-${int(999)}.example [${ip}] failed - POSSIBLE BREAK-IN ATTEMPT!`
    else if (r < 0.87)
      out[i] = `${h}Disconnected from authenticating user ${user} ${ip} port ${port} [preauth]`
    else if (r < 0.89)
      out[i] =
        `${h}Unable to negotiate with ${ip} port ${port}: no matching key exchange method found. Their offer: diffie-hellman-group1-sha1 [preauth]`
    else if (r < 0.91)
      out[i] = `${h}Accepted publickey for deploy from ${ip} port ${port} ssh2: ED25519 SHA256:Qm9vYmFy`
    else if (r < 0.93) out[i] = `${h}pam_unix(sshd:session): session opened for user deploy by (uid=0)`
    else if (r < 0.95) out[i] = `${h}Connection closed by ${ip} port ${port}`
    else if (r < 0.97)
      out[i] = `${ts} LabSZ CRON[${pid}]: pam_unix(cron:session): session closed for user root`
    else if (r < 0.98)
      out[i] =
        `${h}error: maximum authentication attempts exceeded for ${user} from ${ip} port ${port} ssh2 [preauth]`
    else if (r < 0.99) out[i] = `${h}Did not receive identification string from ${ip} port ${port}`
    else out[i] = `${h}Disconnecting: Too many authentication failures [preauth]`
  }
  return out
}

const PATHS = [
  '/',
  '/index.html',
  '/static/app.js',
  '/static/style.css',
  '/api/v1/items?page=2',
  '/favicon.ico',
  '/blog/2024/01/hello-world',
  '/images/logo.png',
]
const PROBES = [
  '/wp-login.php',
  '/.env',
  '/phpmyadmin/index.php',
  '/.git/config',
  '/cgi-bin/luci/;stok=/locale',
  '/admin/config.php',
]
const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15',
  'curl/8.5.0',
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  'python-requests/2.31.0',
]

function nginxLines(n: number): string[] {
  const out = new Array<string>(n)
  let sec = 0
  for (let i = 0; i < n; i++) {
    sec += int(2)
    const day = 1 + (Math.floor(sec / 86_400) % 28)
    const s = sec % 86_400
    const ts = `${pad(day)}/${MONTHS[Math.floor(sec / (86_400 * 28)) % 12]}/2024:${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)} +0000`
    const ip = addr()
    const r = rnd()
    let req: string
    let status: number
    if (r < 0.85) {
      req = `${rnd() < 0.9 ? 'GET' : 'POST'} ${pick(PATHS)} HTTP/1.1`
      status = rnd() < 0.95 ? 200 : 304
    } else if (r < 0.99) {
      req = `GET ${pick(PROBES)} HTTP/1.1`
      status = 404
    } else {
      req = '\\x16\\x03\\x01\\x00\\xee\\x01\\x00\\x00'
      status = 400
    }
    const referer = rnd() < 0.7 ? '-' : 'https://example.org/'
    out[i] = `${ip} - - [${ts}] "${req}" ${status} ${int(50_000)} "${referer}" "${pick(AGENTS)}"`
  }
  return out
}

/** lines as a file reader hands them over: slices of one decoded chunk, not per-line concatenations */
function asRead(lines: readonly string[]): string[] {
  return lines.join('\n').split('\n')
}

function bench(name: string, make: () => LineParser, lines: readonly string[]): void {
  // warm up on a fresh parser so the timed runs see optimised code
  const warm = make()
  for (let i = 0; i < Math.min(lines.length, 200_000); i++) warm.parse(lines[i])
  const rates: number[] = []
  let events = 0
  let irrelevant = 0
  let unparsed = 0
  for (let run = 0; run < RUNS; run++) {
    const p = make()
    events = 0
    irrelevant = 0
    unparsed = 0
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < lines.length; i++) {
      const r = p.parse(lines[i])
      if (r === undefined) irrelevant++
      else if (r === UNPARSED) unparsed++
      else events++
    }
    const ns = Number(process.hrtime.bigint() - t0)
    rates.push(lines.length / (ns / 1e9))
  }
  rates.sort((a, b) => a - b)
  const fmt = (x: number) => `${(x / 1e6).toFixed(2)}M`
  console.log(
    `${name.padEnd(14)} ${lines.length.toLocaleString('en')} lines  best ${fmt(rates[rates.length - 1])} lines/s  ` +
      `median ${fmt(rates[Math.floor(rates.length / 2)])} lines/s  (events ${events}, irrelevant ${irrelevant}, unparsed ${unparsed})`,
  )
}

console.log(`node ${process.version}, ${RUNS} timed runs each, seed 0x5eed`)
const sshd = asRead(sshdLines(N))
bench('sshd', () => createParser('sshd', { year: 2024, reference: Date.UTC(2030, 0, 1) }), sshd)
const nginx = asRead(nginxLines(N))
bench('nginx', () => createParser('nginx'), nginx)

// smaller, for information
const small = Math.max(1, Math.floor(N / 5))
const ngErr = Array.from({ length: small }, (_, i) => {
  const ip = addr()
  return i % 3 === 0
    ? `2024/04/09 11:53:29 [error] 2865#0: *${i} user "admin" was not found in "/etc/nginx/.htpasswd", client: ${ip}, server: www.example.org, request: "GET /admin HTTP/1.1", host: "www.example.org"`
    : `2024/04/09 11:53:29 [error] 2865#0: *${i} limiting requests, excess: 5.428 by zone "one", client: ${ip}, server: example.org, request: "GET / HTTP/1.1", host: "example.org"`
})
bench('nginx-error', () => createParser('nginx-error'), asRead(ngErr))
const apErr = Array.from(
  { length: small },
  (_, i) =>
    `[Sat Jul 20 21:37:32.266605 2024] [auth_basic:error] [pid ${i}:tid 140123079128832] [client ${addr()}:51386] AH01618: user ${pick(USERS)} not found: /basic/file`,
)
bench('apache-error', () => createParser('apache-error'), asRead(apErr))
const cowrie = Array.from({ length: small }, (_, i) => {
  const ev =
    i % 4 === 0 ? 'cowrie.login.failed' : i % 4 === 1 ? 'cowrie.session.connect' : 'cowrie.client.kex'
  return `{"eventid":"${ev}","username":"${pick(USERS)}","password":"123456","src_ip":"${addr()}","src_port":${int(65535)},"dst_ip":"172.18.0.2","dst_port":2222,"session":"2a5e755afa79","protocol":"ssh","sensor":"s1","timestamp":"2024-08-13T00:00:34.803989Z","message":"login attempt"}`
})
bench('cowrie (json)', () => createParser('cowrie'), asRead(cowrie))
