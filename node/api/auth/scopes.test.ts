import { describe, expect, it } from 'vitest'
import { scopeAllows } from './scopes.ts'

describe('scopeAllows', () => {
  const cases: Array<[Parameters<typeof scopeAllows>, boolean]> = [
    [['admin', 'PUT', '/api/defense/network/blocklist'], true],
    [['admin', 'GET', '/v1/decisions'], true],
    [['read', 'GET', '/api/defense/network/status'], true],
    [['read', 'GET', '/metrics'], true],
    [['read', 'POST', '/api/defense/network/alert'], false],
    [['read', 'PUT', '/api/defense/network/peers/x'], false],
    [['read', 'DELETE', '/api/webhooks/x'], false],
    [['read', 'GET', '/v1/decisions'], false],
    [['bouncer', 'GET', '/v1/decisions'], true],
    [['bouncer', 'GET', '/v1/decisions/stream'], true],
    [['bouncer', 'GET', '/api/defense/network/status'], false],
    [['bouncer', 'GET', '/metrics'], false],
    [['bouncer', 'POST', '/v1/decisions'], false],
    [['bouncer', 'GET', '/healthz'], true],
  ]
  it.each(cases)('%j → %s', (args, allowed) => {
    expect(scopeAllows(...args)).toBe(allowed)
  })
})
