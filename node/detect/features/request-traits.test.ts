import { describe, expect, it } from 'vitest'
import { isScannerUserAgent, isSensitivePath } from './request-traits.ts'
import { hashString } from './string-hash.ts'

describe('request traits', () => {
  it('recognises probes for secrets, admin panels and traversal', () => {
    for (const p of [
      '/.env',
      '/app/.git/config',
      '/wp-login.php',
      '/phpMyAdmin/index.php',
      '/Admin',
      '/a/../../etc/passwd',
      '/cgi-bin/luci',
      '/%2E%2E/x',
    ])
      expect(isSensitivePath(p), p).toBe(true)
    for (const p of ['/', '/docs/page-1', '/static/app.js?v=3', '/blog/envelopes'])
      expect(isSensitivePath(p), p).toBe(false)
  })

  it('treats missing and tool user agents as scanner-like, browsers not', () => {
    for (const ua of [
      undefined,
      '',
      '-',
      'curl/8.5.0',
      'python-requests/2.31',
      'Go-http-client/1.1',
      'Mozilla/5.0 zgrab/0.x',
    ])
      expect(isScannerUserAgent(ua), String(ua)).toBe(true)
    expect(
      isScannerUserAgent(
        'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36',
      ),
    ).toBe(false)
  })

  it('hashes strings stably into 32 bits', () => {
    expect(hashString('/index.html')).toBe(hashString('/index.html'))
    expect(hashString('/index.html')).not.toBe(hashString('/index.htm'))
    expect(hashString('')).toBeGreaterThanOrEqual(0)
    expect(hashString('x')).toBeLessThan(2 ** 32)
  })
})
