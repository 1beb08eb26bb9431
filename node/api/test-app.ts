/**
 * For the control API's tests: a real test node with the app in front of it, and requests that carry the admin
 * token and a JSON body type (the node is stopped with stopAndRemove from test/helpers/test-node.ts).
 */
import { startTestNode } from '../../test/helpers/test-node.ts'
import { silentLogger } from '../logging/logger.ts'
import type { ShieldwallNode } from '../shieldwall-node.ts'
import { createApp } from './app.ts'

export type TestApp = ReturnType<typeof createApp>

export async function startTestApp(token: string): Promise<{ node: ShieldwallNode; app: TestApp }> {
  const node = await startTestNode()
  return { node, app: createApp(node, token, silentLogger()) }
}

/** `app()` is read at each request: the app is made in beforeAll, after the describe body has run. */
export function authedRequest(app: () => TestApp, token: string) {
  return (path: string, init: RequestInit = {}) =>
    app().request(path, {
      ...init,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers },
    })
}
