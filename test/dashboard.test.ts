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

  // Feed rows come only from the decision stream (dashboard.js has no other path to them), so the row showing
  // up says the decision was pushed; how fast is not a test bound on a busy machine.
  it('loads with a read token, shows the peer id, and a new decision reaches the live feed', async () => {
    const page = await browser.newPage()
    const problems: string[] = []
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text())
    })
    page.on('pageerror', (e) => problems.push(e.message))
    // the token travels in the fragment: never sent to the server, never in its logs
    await page.goto(`${node.apiUrl}/#token=${readToken}`)
    await page.waitForFunction((id) => document.getElementById('peer-id')?.textContent === id, node.peerId, {
      timeout: 30_000,
    })
    await page.waitForSelector('#connection.live', { timeout: 30_000 })
    const added = await api(node, '/api/defense/network/blocklist', {
      method: 'PUT',
      json: { add: [{ value: '198.51.100.23', durationSeconds: 3600, reason: 'dashboard test' }] },
    })
    expect(added.status).toBe(200)
    await page.waitForSelector('#feed tr.added[data-value="198.51.100.23"]', { timeout: 30_000 })
    await page.waitForSelector('#chart-blocklist path.line', { state: 'attached', timeout: 30_000 })
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
  }, 120_000)
})
