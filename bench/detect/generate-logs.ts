import { createWriteStream } from 'node:fs'
import { once } from 'node:events'
import { mulberry32 } from '../../node/detect/features/prng.ts'

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const pad = (n: number) => (n < 10 ? '0' + n : String(n))

function ip(rand: () => number, pool: number, salt: number): string {
  const n = Math.floor(rand() * pool) + salt * 7919
  return `${(n % 223) + 1}.${(n >> 3) % 256}.${(n >> 7) % 256}.${((n * 13) % 254) + 1}`
}

async function writeLines(path: string, count: number, line: (i: number) => string): Promise<void> {
  const out = createWriteStream(path, { highWaterMark: 1 << 20 })
  let buf = ''
  for (let i = 0; i < count; i++) {
    buf += line(i) + '\n'
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain')
      buf = ''
    }
  }
  out.write(buf)
  out.end()
  await once(out, 'finish')
}

export async function generateSshd(path: string, count: number, seed = 1): Promise<void> {
  const rand = mulberry32(seed)
  const users = ['root', 'admin', 'test', 'oracle', 'ubuntu', 'git', 'postgres', 'user', 'guest', 'pi']
  const start = Date.UTC(2025, 11, 10, 6, 0, 0)
  let pid = 20000
  await writeLines(path, count, (i) => {
    const t = new Date(start + Math.floor(i * 80))
    const stamp = `${MONTHS[t.getUTCMonth()]} ${String(t.getUTCDate()).padStart(2, ' ')} ${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())}`
    const r = rand()
    pid++
    const head = `${stamp} bastion sshd[${pid}]: `
    if (r < 0.35) {
      const a = ip(rand, 400, 1) // brute forcers: few addresses, many lines
      return (
        head +
        `Failed password for ${rand() < 0.5 ? 'invalid user ' : ''}${users[Math.floor(rand() * users.length)]} from ${a} port ${1024 + Math.floor(rand() * 60000)} ssh2`
      )
    }
    if (r < 0.5)
      return (
        head +
        `Invalid user ${users[Math.floor(rand() * users.length)]}${Math.floor(rand() * 100)} from ${ip(rand, 400, 1)} port ${1024 + Math.floor(rand() * 60000)}`
      )
    if (r < 0.6)
      return (
        head +
        `Received disconnect from ${ip(rand, 20000, 2)} port ${1024 + Math.floor(rand() * 60000)}:11: Bye Bye [preauth]`
      )
    if (r < 0.68)
      return (
        head +
        `Connection closed by ${ip(rand, 20000, 2)} port ${1024 + Math.floor(rand() * 60000)} [preauth]`
      )
    if (r < 0.72)
      return (
        head +
        `Did not receive identification string from ${ip(rand, 20000, 2)} port ${1024 + Math.floor(rand() * 60000)}`
      )
    if (r < 0.8)
      return (
        head +
        `Accepted publickey for deploy from ${ip(rand, 50, 3)} port ${1024 + Math.floor(rand() * 60000)} ssh2: ED25519 SHA256:Xb3kq9v+YzK0e2Qm1Wc7Lh8Pn4Rs5Tt6Uu7Vv8Ww9xY`
      )
    if (r < 0.9) return head + `pam_unix(sshd:session): session opened for user deploy(uid=1000) by (uid=0)`
    return head + `pam_unix(sshd:session): session closed for user deploy`
  })
}

export async function generateNginx(path: string, count: number, seed = 2): Promise<void> {
  const rand = mulberry32(seed)
  const pages = [
    '/',
    '/index.html',
    '/blog/',
    '/blog/2024/01/hello-world',
    '/about',
    '/contact',
    '/feed.xml',
    '/search?q=libp2p',
    '/api/v1/items?page=2',
    '/favicon.ico',
    '/css/site.css',
    '/js/app.js',
    '/img/logo.png',
  ]
  const probes = [
    '/.env',
    '/.git/config',
    '/wp-login.php',
    '/phpmyadmin/index.php',
    '/admin/config.php',
    '/backup.sql',
    '/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php',
    '/index.php?id=1%27%20union%20select%201,2,3--',
    '/../../etc/passwd',
    '/cgi-bin/luci',
  ]
  const uas = [
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
    'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
    'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  ]
  const start = Date.UTC(2025, 4, 17, 10, 0, 0)
  await writeLines(path, count, (i) => {
    const t = new Date(start + Math.floor(i * 40))
    const stamp = `${pad(t.getUTCDate())}/${MONTHS[t.getUTCMonth()]}/${t.getUTCFullYear()}:${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())} +0000`
    const r = rand()
    if (r < 0.08) {
      const a = ip(rand, 300, 4)
      return `${a} - - [${stamp}] "GET ${probes[Math.floor(rand() * probes.length)]} HTTP/1.1" 404 153 "-" "curl/8.5.0"`
    }
    const a = ip(rand, 50000, 5)
    const page = pages[Math.floor(rand() * pages.length)]
    const status = rand() < 0.03 ? 404 : rand() < 0.05 ? 304 : 200
    return `${a} - - [${stamp}] "GET ${page} HTTP/1.1" ${status} ${Math.floor(rand() * 40000)} "https://example.org/" "${uas[Math.floor(rand() * uas.length)]}"`
  })
}
