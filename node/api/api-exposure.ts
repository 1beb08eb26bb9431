import { parseIp } from '../../protocol/indicator-ip.ts'

/**
 * The warning to log when the control API listens beyond this machine, or undefined for a loopback address.
 * The API is token-protected but it administers the node (pins, manual blocks, bouncer keys): reaching it from
 * the network should be a choice the operator sees at every start, not the quiet effect of `api.host: 0.0.0.0`.
 */
export function apiExposureWarning(host: string): string | undefined {
  if (host === 'localhost') return undefined
  const bytes = parseIp(host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host)
  // parseIp gives IPv4-mapped IPv6 addresses as their 4 IPv4 bytes
  if (bytes !== undefined && bytes.length === 4 && bytes[0] === 127) return undefined
  if (bytes !== undefined && bytes.length === 16 && bytes.every((b, i) => b === (i === 15 ? 1 : 0)))
    return undefined
  const every = bytes !== undefined && bytes.every((b) => b === 0)
  return (
    `the control API listens on ${host}${every ? ' (every interface)' : ''} and is reachable from the network, ` +
    `not only from this machine; keep the token secret and firewall the port, or set api.host to 127.0.0.1`
  )
}
