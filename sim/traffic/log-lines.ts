/**
 * Log lines exactly as the guarded services write them, so simulated traffic goes through the same follower
 * and parsers as production. sshd lines carry an RFC 3339 syslog header (rsyslog high precision) so detection
 * sees millisecond times; nginx uses its default `combined` format.
 */
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const

export const SCANNER_UA = 'Mozilla/5.0 zgrab/0.x'
export const BROWSER_UA = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'

export type SshLine =
  | { kind: 'failed-password'; user: string; port: number }
  | { kind: 'invalid-user'; user: string; port: number }
  | { kind: 'accepted'; user: string; port: number }

export function sshdLine(time: number, host: string, pid: number, ip: string, line: SshLine): string {
  const head = `${new Date(time).toISOString().replace('Z', '+00:00')} ${host} sshd[${pid}]: `
  switch (line.kind) {
    case 'failed-password':
      return `${head}Failed password for ${line.user} from ${ip} port ${line.port} ssh2`
    case 'invalid-user':
      return `${head}Invalid user ${line.user} from ${ip} port ${line.port}`
    case 'accepted':
      return `${head}Accepted publickey for ${line.user} from ${ip} port ${line.port} ssh2: ED25519 SHA256:sim`
  }
}

export interface HttpLine {
  method: string
  path: string
  status: number
  bytes: number
  userAgent: string
  referer?: string
}

/** `$remote_addr - - [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"` */
export function nginxLine(time: number, ip: string, r: HttpLine): string {
  const d = new Date(time)
  const p2 = (n: number) => String(n).padStart(2, '0')
  const stamp = `${p2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000`
  return `${ip} - - [${stamp}] "${r.method} ${r.path} HTTP/1.1" ${r.status} ${r.bytes} "${r.referer ?? '-'}" "${r.userAgent}"`
}
