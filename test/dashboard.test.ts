import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ShieldwallNode } from '../node/shieldwall-node.ts'
import { ARTIFACTS, CHROMIUM, launchChromium } from './helpers/browser.ts'
import { api, startTestNode, stopAndRemove } from './helpers/test-node.ts'

describe.skipIf(CHROMIUM === undefined)('the dashboard in a real browser (Debian chromium)', () => {
  let node: ShieldwallNode
  let browser: Browser
  let readToken: string

  beforeAll(async () => {
    node = await startTestNode({ cli: { nodeName: 'dash' } })
    readToken = (await api(node, '/api/tokens', { method: 'POST', json: { scope: 'read', name: 'viewer' } }))
      .body.token
    browser = await launchChromium()
  }, 60_000)
  afterAll(async () => {
    await browser?.close()
    await stopAndRemove(node)
  })

  it('loads with a read token, shows the peer id, and a new decision reaches the live feed within 2 s', async () => {
    const page = await browser.newPage()
    const problems: string[] = []
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text())
    })
    page.on('pageerror', (e) => problems.push(e.message))
    // the token travels in the fragment: never sent to the server, never in its logs
    await page.goto(`${node.apiUrl}/#token=${readToken}`)
    await page.waitForFunction((id) => document.getElementById('peer-id')?.textContent === id, node.peerId, {
      timeout: 10_000,
    })
    await page.waitForSelector('#connection.live', { timeout: 10_000 })
    const t0 = Date.now()
    const added = await api(node, '/api/defense/network/blocklist', {
      method: 'PUT',
      json: { add: [{ value: '198.51.100.23', durationSeconds: 3600, reason: 'dashboard test' }] },
    })
    expect(added.status).toBe(200)
    await page.waitForSelector('#feed tr.added[data-value="198.51.100.23"]', { timeout: 2000 })
    expect(Date.now() - t0).toBeLessThan(2000)
    await page.waitForSelector('#chart-blocklist path.line', { state: 'attached', timeout: 10_000 })
    await mkdir(ARTIFACTS, { recursive: true })
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true })
    expect(problems.join('\n')).toBe('')
    // the read token cannot write through the page's origin either
    const status = await page.evaluate(async (token) => {
      const res = await fetch('/api/defense/network/blocklist', {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ remove: ['198.51.100.23'] }),
      })
      return res.status
    }, readToken)
    expect(status).toBe(403)
  }, 60_000)
})
