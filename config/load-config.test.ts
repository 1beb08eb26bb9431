import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { InvalidConfigError, ShieldwallConfigSchema, defaultDataDir, loadConfig } from './index.ts'
import { loadError } from './test-load-error.ts'

let dir: string

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shieldwall-config-'))
})

afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name)
  await writeFile(path, text)
  return path
}

describe('loadConfig', () => {
  it('gives a complete config from defaults alone', () => {
    expect(loadConfig({ env: {} })).toEqual({
      dataDir: defaultDataDir(),
      log: { level: 'info' },
      api: {
        host: '127.0.0.1',
        port: 7420,
        enabled: true,
        streams: { maxPerToken: 8, maxTotal: 64, bufferBytes: 262_144, stallSeconds: 60 },
      },
      p2p: {
        listen: ['/ip4/0.0.0.0/tcp/7421'],
        announce: [],
        bootstrap: [],
        dht: { enabled: true, protocolPrefix: '/shieldwall' },
        maxConnections: 200,
      },
      alerts: {
        defaultTtlSeconds: 86400,
        maxTtlSeconds: 2592000,
        maxClockSkewSeconds: 30,
        maxPerSenderPerMinute: 120,
        maxMessageBytes: 16384,
        maxStored: 200_000,
      },
      sources: [],
      detect: {
        threshold: 0.7,
        maxTrackedIps: 200_000,
        scenarios: {},
        banGrowthFactor: 2,
        maxBanSeconds: 604_800,
        anomaly: { enabled: true, threshold: 0.65 },
        stats: { enabled: true },
        sightings: { enabled: true, fraction: 0.5 },
        publishAlerts: true,
      },
      reputation: { trustedPeers: [], bannedPeers: [], halfLifeDays: 30 },
      blocklist: {
        minTrustedReporters: 2,
        trustedThreshold: 0.6,
        communityThreshold: 0.7,
        untrustedCap: 0.3,
        communityBanSeconds: 14_400,
        allowlist: [],
        allowPrivateRanges: true,
        publishSummaries: true,
        summaryIntervalSeconds: 60,
      },
      learning: expect.objectContaining({
        enabled: true,
        roundMs: 600_000,
        aggregation: { rule: 'median', trimFraction: 0.25, normBound: 'median', medianNormFactor: 2 },
        privacy: { contributing: true, epsilonBudget: 10, delta: 1e-5, clipNorm: 1, noiseMultiplier: 1.1 },
      }),
    })
    expect(ShieldwallConfigSchema.parse({})).toEqual(loadConfig({ env: {} }))
  })

  it('puts the data dir under XDG_DATA_HOME when it is absolute', () => {
    expect(defaultDataDir({ XDG_DATA_HOME: '/srv/data' })).toBe('/srv/data/shieldwall')
    expect(defaultDataDir({ XDG_DATA_HOME: 'relative' })).toMatch(/\.local\/share\/shieldwall$/)
  })

  it('does not share default arrays between configs', () => {
    loadConfig({ env: {} }).p2p.listen.push('/ip4/1.2.3.4/tcp/1')
    expect(loadConfig({ env: {} }).p2p.listen).toEqual(['/ip4/0.0.0.0/tcp/7421'])
  })

  it('reads a YAML file over the defaults', async () => {
    const path = await file(
      'shieldwall.yaml',
      ['nodeName: node-07', 'api:', '  port: 8080', 'p2p:', '  dht:', '    enabled: false', ''].join('\n'),
    )
    const config = loadConfig({ file: path, env: {} })
    expect(config.nodeName).toBe('node-07')
    expect(config.api).toMatchObject({ host: '127.0.0.1', port: 8080, enabled: true })
    expect(config.p2p.dht).toEqual({ enabled: false, protocolPrefix: '/shieldwall' })
  })

  it('reads a JSON file over the defaults', async () => {
    const path = await file(
      'shieldwall.json',
      JSON.stringify({ log: { level: 'debug' }, alerts: { maxTtlSeconds: 90000 } }),
    )
    const config = loadConfig({ file: path, env: {} })
    expect(config.log.level).toBe('debug')
    expect(config.alerts.maxTtlSeconds).toBe(90000)
    expect(config.alerts.defaultTtlSeconds).toBe(86400)
  })

  it('treats an empty YAML file as setting nothing', async () => {
    const path = await file('empty.yml', '# nothing yet\n')
    expect(loadConfig({ file: path, env: {} })).toEqual(loadConfig({ env: {} }))
  })

  it('uses SHIELDWALL_CONFIG when no file is given', async () => {
    const path = await file('from-env.yaml', 'api:\n  port: 9000\n')
    expect(loadConfig({ env: { SHIELDWALL_CONFIG: path } }).api.port).toBe(9000)
  })

  it('lets env override the file, field by field', async () => {
    const path = await file('shieldwall.yaml', 'api:\n  host: 0.0.0.0\n  port: 8080\n')
    const config = loadConfig({
      file: path,
      env: { SHIELDWALL_API_PORT: '9090', SHIELDWALL_API_ENABLED: 'no' },
    })
    expect(config.api).toMatchObject({ host: '0.0.0.0', port: 9090, enabled: false })
  })

  it('lets CLI override env, and converts CLI strings by the schema', async () => {
    const config = loadConfig({
      env: {
        SHIELDWALL_API_HOST: '10.0.0.1',
        SHIELDWALL_API_PORT: '9090',
        SHIELDWALL_P2P_LISTEN: '/ip4/0.0.0.0/tcp/1',
      },
      cli: { api: { port: '7000', host: undefined }, p2p: { listen: ['/ip4/127.0.0.1/tcp/2'] } },
    })
    expect(config.api.host).toBe('10.0.0.1')
    expect(config.api.port).toBe(7000)
    expect(config.p2p.listen).toEqual(['/ip4/127.0.0.1/tcp/2'])
  })

  it('replaces arrays instead of merging them', async () => {
    const path = await file('shieldwall.yaml', 'p2p:\n  announce: [/ip4/1.1.1.1/tcp/1, /ip4/2.2.2.2/tcp/2]\n')
    const config = loadConfig({ file: path, env: { SHIELDWALL_P2P_ANNOUNCE: '/ip4/3.3.3.3/tcp/3' } })
    expect(config.p2p.announce).toEqual(['/ip4/3.3.3.3/tcp/3'])
  })

  it('splits comma-separated env values into arrays', () => {
    const config = loadConfig({
      env: {
        SHIELDWALL_P2P_BOOTSTRAP:
          '/ip4/1.2.3.4/tcp/7421/p2p/12D3KooWBjjHwvxLRaX7C9oz3X1GPSmav3TBnz4XTSGF8CN1MwMW, /dns4/b.example/tcp/7421/p2p/12D3KooWGfVPzdLmTRkhygi834kTNkf6jTwwURNFc3fkVUSTbnmq,',
      },
    })
    expect(config.p2p.bootstrap).toEqual([
      '/ip4/1.2.3.4/tcp/7421/p2p/12D3KooWBjjHwvxLRaX7C9oz3X1GPSmav3TBnz4XTSGF8CN1MwMW',
      '/dns4/b.example/tcp/7421/p2p/12D3KooWGfVPzdLmTRkhygi834kTNkf6jTwwURNFc3fkVUSTbnmq',
    ])
    expect(loadConfig({ env: { SHIELDWALL_P2P_LISTEN: '' } }).p2p.listen).toEqual([])
  })

  it('maps nested and multi-word env vars onto camelCase keys', () => {
    const config = loadConfig({
      env: {
        SHIELDWALL_DATA_DIR: '/var/lib/shieldwall',
        SHIELDWALL_NODE_NAME: 'node-07',
        SHIELDWALL_LOG_LEVEL: 'warn',
        SHIELDWALL_API_TOKEN: 'a-token-of-enough-length',
        SHIELDWALL_P2P_DHT_PROTOCOL_PREFIX: '/test-net',
        SHIELDWALL_P2P_DHT_ENABLED: 'false',
        SHIELDWALL_ALERTS_MAX_MESSAGE_BYTES: '4096',
        UNRELATED: 'ignored',
      },
    })
    expect(config.dataDir).toBe('/var/lib/shieldwall')
    expect(config.nodeName).toBe('node-07')
    expect(config.log.level).toBe('warn')
    expect(config.api.token).toBe('a-token-of-enough-length')
    expect(config.p2p.dht).toEqual({ enabled: false, protocolPrefix: '/test-net' })
    expect(config.alerts.maxMessageBytes).toBe(4096)
  })

  it('names the key and the file for an unknown key in a file', async () => {
    const path = await file('shieldwall.yaml', 'api:\n  prot: 8080\n')
    const err = loadError({ file: path, env: {} })
    expect(err.message).toContain(`invalid config: unknown key "api.prot" (from ${path})`)
    expect(err.message).toContain('expected one of host, port, token, enabled')
    expect(err.issues).toEqual([
      { kind: 'unknown-key', path: 'api.prot', value: 8080, expected: expect.any(String), source: path },
    ])
  })

  it('reports a "__proto__" key as unknown instead of letting it slip through', async () => {
    const path = await file('shieldwall.json', '{"api": {"__proto__": {"port": 1}}}')
    expect(loadError({ file: path, env: {} }).message).toContain('unknown key "api.__proto__"')
  })

  it('names the variable, the value and the expectation for a bad env value', () => {
    const err = loadError({ env: { SHIELDWALL_API_PORT: 'http' } })
    expect(err.message).toBe(
      'invalid config: api.port = "http" (from SHIELDWALL_API_PORT): expected an integer from 0 to 65535',
    )
    expect(err.issues[0]).toMatchObject({ path: 'api.port', value: 'http', source: 'SHIELDWALL_API_PORT' })
  })

  it('explains bad values readably, whatever the layer', async () => {
    const path = await file('shieldwall.yaml', 'log:\n  level: loud\napi:\n  enabled: maybe\n')
    const err = loadError({
      file: path,
      env: { SHIELDWALL_P2P_BOOTSTRAP: '/ip4/1.2.3.4/tcp/7421' },
      cli: { alerts: { maxMessageBytes: 10 } },
    })
    expect(err.message).toContain(
      `log.level = "loud" (from ${path}): expected one of "trace", "debug", "info"`,
    )
    expect(err.message).toContain(`api.enabled = "maybe" (from ${path}): expected a boolean`)
    expect(err.message).toContain(
      'p2p.bootstrap[0] = "/ip4/1.2.3.4/tcp/7421" (from SHIELDWALL_P2P_BOOTSTRAP): expected a multiaddr with a peer id',
    )
    expect(err.message).toContain(
      'alerts.maxMessageBytes = 10 (from --alerts-max-message-bytes): expected an integer from 256 to 1048576',
    )
    expect(err.issues).toHaveLength(4)
  })

  it('blames the default when a changed limit makes the default ttl invalid', () => {
    const err = loadError({ env: { SHIELDWALL_ALERTS_MAX_TTL_SECONDS: '3600' } })
    expect(err.message).toBe(
      'invalid config: alerts.defaultTtlSeconds = 86400 (from default): expected at most alerts.maxTtlSeconds (3600)',
    )
  })

  it('does not print a secret in the error', () => {
    const err = loadError({ env: { SHIELDWALL_API_TOKEN: 'short-secret' } })
    expect(err.message).toContain(
      'api.token = "[redacted]" (from SHIELDWALL_API_TOKEN): expected a string of at least 16',
    )
    expect(err.message).not.toContain('short-secret')
  })

  it('rejects an unknown SHIELDWALL_ variable and lists its neighbours', () => {
    const err = loadError({ env: { SHIELDWALL_API_PROT: '8080', SHIELDWALL_CONFIG: '' } })
    expect(err.message).toBe(
      'invalid config: unknown environment variable SHIELDWALL_API_PROT: expected one of ' +
        'SHIELDWALL_API_HOST, SHIELDWALL_API_PORT, SHIELDWALL_API_TOKEN, SHIELDWALL_API_ENABLED, ' +
        'SHIELDWALL_API_STREAMS_*',
    )
    expect(loadError({ env: { SHIELDWALL_API: 'x' } }).message).toContain('SHIELDWALL_P2P_*')
  })

  it('names the file and the line for malformed YAML', async () => {
    const path = await file('broken.yaml', 'api:\n  port: 8080\n p2p: [\n')
    const err = loadError({ file: path, env: {} })
    expect(err.message).toContain(`invalid config: cannot load config file ${path}: invalid YAML:`)
    expect(err.message).toMatch(/at line \d+, column \d+/)
  })

  it('names the file for malformed JSON', async () => {
    const path = await file('broken.json', '{"api": {"port": 8080,}}')
    expect(loadError({ file: path, env: {} }).message).toContain(
      `cannot load config file ${path}: invalid JSON:`,
    )
  })

  it('fails on an explicitly named file that does not exist', () => {
    const path = join(dir, 'missing.yaml')
    expect(loadError({ file: path, env: {} }).message).toBe(
      `invalid config: cannot load config file ${path}: no such file`,
    )
  })

  it('refuses a file whose extension it cannot parse', async () => {
    const path = await file('shieldwall.toml', 'port = 1\n')
    expect(loadError({ file: path, env: {} }).message).toContain('unsupported extension ".toml"')
  })

  it('refuses a file that is not a mapping', async () => {
    const path = await file('list.yaml', '- a\n- b\n')
    expect(loadError({ file: path, env: {} }).message).toContain(
      `(top level) = ["a","b"] (from ${path}): expected a mapping of config keys`,
    )
  })
})
