import { describe, expect, it } from 'vitest'
import { loadConfig } from './index.ts'
import type { InvalidConfigError } from './index.ts'
import { loadError as loadOptionsError } from './test-load-error.ts'

// Mistakes an operator makes are config errors naming the key, found before the node does anything (no
// identity created, no port bound), not odd failures later.

function loadError(cli: Record<string, unknown>): InvalidConfigError {
  return loadOptionsError({ env: {}, cli })
}

const ED25519_PEER = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'
const RSA_PEER = 'QmNnooDu7bfjPFoTZYxMNLWUQJyrVwtbZg5gBMjTezGAJN'

describe('config checks', () => {
  it('names an unknown scenario under detect.scenarios and lists the known ones', () => {
    const err = loadError({ detect: { scenarios: { 'ssh-bff': { capacity: 3 } } } })
    expect(err.issues).toEqual([
      expect.objectContaining({ kind: 'unknown-key', path: 'detect.scenarios.ssh-bff' }),
    ])
    expect(err.message).toContain('ssh-bf,')
    expect(err.message).toContain('http-probing')
    expect(
      loadConfig({ env: {}, cli: { detect: { scenarios: { 'ssh-bf': { capacity: 3 } } } } }).detect.scenarios,
    ).toEqual({ 'ssh-bf': { capacity: 3 } })
  })

  it('accepts only Ed25519 peer ids in reputation.trustedPeers and bannedPeers', () => {
    for (const key of ['trustedPeers', 'bannedPeers']) {
      for (const bad of ['111111', RSA_PEER, 'not a peer']) {
        const err = loadError({ reputation: { [key]: [ED25519_PEER, bad] } })
        expect(err.issues[0]).toMatchObject({
          kind: 'invalid-value',
          path: `reputation.${key}[1]`,
          value: bad,
        })
      }
    }
    expect(
      loadConfig({ env: {}, cli: { reputation: { trustedPeers: [ED25519_PEER] } } }).reputation.trustedPeers,
    ).toEqual([ED25519_PEER])
  })

  it('names learning.trainFraction when it does not come before closeFraction', () => {
    for (const [trainFraction, closeFraction] of [
      [0.8, 0.8],
      [0.9, 0.5],
    ]) {
      const err = loadError({ learning: { trainFraction, closeFraction } })
      expect(err.issues[0]).toMatchObject({ path: 'learning.trainFraction' })
      expect(err.message).toContain('learning.closeFraction')
    }
  })

  it('refuses a bootstrap address that is not a multiaddr with an Ed25519 peer id', () => {
    for (const bad of [
      '/garbage/p2p/xyz',
      '/ip4/127.0.0.1/tcp/7421/p2p/111111',
      `/ip4/1.2.3.4/tcp/1/p2p/${RSA_PEER}`,
    ]) {
      const err = loadError({ p2p: { bootstrap: [bad] } })
      expect(err.issues[0], bad).toMatchObject({ kind: 'invalid-value', path: 'p2p.bootstrap[0]' })
    }
    const good = `/dns4/boot.example.org/tcp/7421/p2p/${ED25519_PEER}`
    expect(loadConfig({ env: {}, cli: { p2p: { bootstrap: [good] } } }).p2p.bootstrap).toEqual([good])
  })

  it('bounds alerts.maxClockSkewSeconds', () => {
    expect(loadError({ alerts: { maxClockSkewSeconds: 86_400 } }).issues[0]).toMatchObject({
      path: 'alerts.maxClockSkewSeconds',
    })
    expect(
      loadConfig({ env: {}, cli: { alerts: { maxClockSkewSeconds: 3600 } } }).alerts.maxClockSkewSeconds,
    ).toBe(3600)
  })
})
