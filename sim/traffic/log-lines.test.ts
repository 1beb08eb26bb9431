import { describe, expect, it } from 'vitest'
import { UNPARSED } from '../../node/ingest/parsers/index.ts'
import { createSourceParser } from '../../node/ingest/source-parser.ts'
import { BROWSER_UA, nginxLine, sshdLine } from './log-lines.ts'

const T = Date.UTC(2025, 10, 23, 8, 59, 1, 250)

describe('simulated log lines', () => {
  it('are read by the production sshd parser with the address, user and millisecond time', () => {
    const lines = [
      sshdLine(T, 'node-07', 4242, '198.51.100.7', { kind: 'failed-password', user: 'root', port: 50022 }),
      sshdLine(T, 'node-07', 4243, '2001:db8:a::1f', { kind: 'invalid-user', user: 'admin', port: 50023 }),
      sshdLine(T, 'node-07', 4244, '192.0.2.9', { kind: 'accepted', user: 'deploy', port: 50024 }),
    ]
    const parser = createSourceParser('sshd', lines, { source: 'sim' })
    const events = lines.map((l) => parser.parse(l, { now: T }))
    expect(
      events.map((e) => (e === UNPARSED || e === undefined ? e : [e.kind, e.ip, e.user, e.time])),
    ).toEqual([
      ['auth_failure', '198.51.100.7', 'root', T],
      ['invalid_user', '2001:db8:a::1f', 'admin', T],
      ['auth_success', '192.0.2.9', 'deploy', T],
    ])
  })

  it('are read by the production nginx parser', () => {
    const line = nginxLine(T, '203.0.113.5', {
      method: 'GET',
      path: '/.env',
      status: 404,
      bytes: 153,
      userAgent: BROWSER_UA,
    })
    const parser = createSourceParser('nginx', [line], { source: 'sim' })
    const e = parser.parse(line, { now: T })
    if (e === UNPARSED || e === undefined) throw new Error('not parsed')
    expect([e.kind, e.ip, e.path, e.status, e.time]).toEqual([
      'http_request',
      '203.0.113.5',
      '/.env',
      404,
      T - 250,
    ])
  })
})
