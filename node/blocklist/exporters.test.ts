import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  exportBlocklist,
  prepareEntries,
  toIpset,
  toNftables,
  toNginx,
  toPlain,
  exportChunks,
  exportRows,
  formatTimeouts,
  EXPORT_FORMATS,
  type ExportEntry,
  type ExportFormat,
} from './exporters.ts'
import { exportBlocklist as wholeStringExport } from './test-fixtures/whole-string-exporters.ts'

const NOW = 1_700_000_000_000
const NEVER = 8_640_000_000_000_000

const ENTRIES: ExportEntry[] = [
  { value: '2001:db8::/32', expiresAt: NOW + 3600_000 },
  { value: '198.51.100.0/24', expiresAt: NEVER },
  { value: '198.51.100.7', expiresAt: NOW + 60_000 }, // inside the /24
  { value: '192.0.2.1', expiresAt: NOW + 90_500 },
  { value: '192.0.2.200', expiresAt: NOW - 1 }, // expired
  { value: '2001:db9::5', expiresAt: NEVER },
]

/** `nft -c` checks a ruleset against the kernel without applying it; skip where nft cannot run at all. */
function nftCheck(): ((script: string) => { ok: boolean; error: string }) | string {
  if (spawnSync('nft', ['--version']).error !== undefined) return 'nft is not installed'
  const check = (script: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'shieldwall-nft-'))
    try {
      writeFileSync(join(dir, 'blocklist.nft'), script)
      const r = spawnSync('nft', ['-c', '-f', join(dir, 'blocklist.nft')], { encoding: 'utf8' })
      return { ok: r.status === 0, error: r.stderr }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
  const trial = check('table inet shieldwall_probe {\n}\n')
  return trial.ok ? check : `nft -c cannot run here (${trial.error.trim().split('\n')[0]})`
}

const nft = nftCheck()

describe('exporters', () => {
  it('sorts, drops expired entries and entries inside broader ones', () => {
    const p = prepareEntries(ENTRIES, { now: NOW })
    expect(p.v4.map((r) => r.indicator.canonical)).toEqual(['192.0.2.1', '198.51.100.0/24'])
    expect(p.v6.map((r) => r.indicator.canonical)).toEqual(['2001:db8::/32', '2001:db9::5'])
    expect(p.covered).toBe(1)
  })

  it('writes an nftables script', () => {
    expect(toNftables(ENTRIES, { now: NOW })).toBe(
      [
        '#!/usr/sbin/nft -f',
        '# shieldwall blocklist: 4 entries (2 IPv4, 2 IPv6); 1 inside broader entries left out',
        'table inet shieldwall',
        'delete table inet shieldwall',
        'table inet shieldwall {',
        '\tset shieldwall_v4 {',
        '\t\ttype ipv4_addr',
        '\t\tflags interval',
        '\t}',
        '\tset shieldwall_v6 {',
        '\t\ttype ipv6_addr',
        '\t\tflags interval',
        '\t}',
        '\tchain input {',
        '\t\ttype filter hook input priority filter - 10; policy accept;',
        '\t\tip saddr @shieldwall_v4 drop',
        '\t\tip6 saddr @shieldwall_v6 drop',
        '\t}',
        '\tchain forward {',
        '\t\ttype filter hook forward priority filter - 10; policy accept;',
        '\t\tip saddr @shieldwall_v4 drop',
        '\t\tip6 saddr @shieldwall_v6 drop',
        '\t}',
        '}',
        'add element inet shieldwall shieldwall_v4 { 192.0.2.1, 198.51.100.0/24 }',
        'add element inet shieldwall shieldwall_v6 { 2001:db8::/32, 2001:db9::5 }',
        '',
      ].join('\n'),
    )
  })

  it('gives nftables elements timeouts when asked, and none to blocks without expiry', () => {
    const text = toNftables(ENTRIES, { now: NOW, timeouts: true, chains: false, name: 'sw' })
    expect(text).toContain('\t\tflags interval, timeout\n')
    expect(text).toContain('add element inet sw sw_v4 { 192.0.2.1 timeout 91s, 198.51.100.0/24 }\n')
    expect(text).toContain('add element inet sw sw_v6 { 2001:db8::/32 timeout 3600s, 2001:db9::5 }\n')
    expect(text).not.toContain('chain')
  })

  it('writes an ipset restore file that swaps freshly filled sets in', () => {
    expect(toIpset(ENTRIES, { now: NOW })).toBe(
      [
        '# shieldwall blocklist: 4 entries (2 IPv4, 2 IPv6); 1 inside broader entries left out',
        'create shieldwall-v4 hash:net family inet maxelem 1048576 -exist',
        'create shieldwall-v4-tmp hash:net family inet maxelem 1048576 -exist',
        'flush shieldwall-v4-tmp',
        'add shieldwall-v4-tmp 192.0.2.1 -exist',
        'add shieldwall-v4-tmp 198.51.100.0/24 -exist',
        'swap shieldwall-v4-tmp shieldwall-v4',
        'destroy shieldwall-v4-tmp',
        'create shieldwall-v6 hash:net family inet6 maxelem 1048576 -exist',
        'create shieldwall-v6-tmp hash:net family inet6 maxelem 1048576 -exist',
        'flush shieldwall-v6-tmp',
        'add shieldwall-v6-tmp 2001:db8::/32 -exist',
        'add shieldwall-v6-tmp 2001:db9::5 -exist',
        'swap shieldwall-v6-tmp shieldwall-v6',
        'destroy shieldwall-v6-tmp',
        '',
      ].join('\n'),
    )
    const timed = toIpset([...ENTRIES, { value: '0.0.0.0/0', expiresAt: NOW + 100 * 86400_000 }], {
      now: NOW,
      timeouts: true,
    })
    expect(timed).toContain('create shieldwall-v4 hash:net family inet maxelem 1048576 timeout 0 -exist')
    // hash:net has no /0, and ipset's longest timeout is about 24.8 days
    expect(timed).toContain('add shieldwall-v4-tmp 0.0.0.0/1 timeout 2147483 -exist\n')
    expect(timed).toContain('add shieldwall-v4-tmp 128.0.0.0/1 timeout 2147483 -exist\n')
  })

  it('writes an nginx include and a plain list', () => {
    expect(toNginx(ENTRIES, { now: NOW })).toBe(
      '# shieldwall blocklist: 4 entries (2 IPv4, 2 IPv6); 1 inside broader entries left out\n' +
        'deny 192.0.2.1;\ndeny 198.51.100.0/24;\ndeny 2001:db8::/32;\ndeny 2001:db9::5;\n',
    )
    expect(toPlain(ENTRIES, { now: NOW })).toBe('192.0.2.1\n198.51.100.0/24\n2001:db8::/32\n2001:db9::5\n')
    expect(toPlain([])).toBe('')
  })

  it('rejects unknown formats and unsafe names with named errors', () => {
    expect(() => exportBlocklist('pf' as ExportFormat, [])).toThrow(
      expect.objectContaining({ name: 'UnknownExportFormatError' }),
    )
    expect(() => toNftables([], { name: 'x; flush ruleset' })).toThrow(
      expect.objectContaining({ name: 'InvalidExportNameError' }),
    )
  })

  it('writes, a piece at a time, exactly what the whole-string exporters wrote', () => {
    // more than one nft statement per set, /0s (ipset halves), duplicates with different timeouts, nested
    // ranges, other spellings of the same value, expired and invalid entries
    const many: ExportEntry[] = Array.from({ length: 2500 }, (_, i) => ({
      value: i % 3 === 0 ? `2001:db8:${i}::/48` : `203.${(i >> 8) & 255}.${i & 255}.${(i * 7) & 255}`,
      expiresAt: i % 11 === 0 ? NEVER : NOW + (i - 100) * 1000,
    }))
    const inputs: ExportEntry[][] = [
      [],
      ENTRIES,
      [...ENTRIES, ...many],
      [
        ...many,
        { value: '0.0.0.0/0', expiresAt: NOW + 5000 },
        { value: '::/0', expiresAt: NEVER },
        { value: '203.0.113.9', expiresAt: NOW + 1000 },
        { value: '203.0.113.9', expiresAt: NOW + 9000 },
        { value: '2001:DB8:0::1', expiresAt: NOW + 3000 },
        { value: 'not an address', expiresAt: NEVER },
      ],
    ]
    for (const entries of inputs) {
      for (const format of EXPORT_FORMATS) {
        for (const options of [{ now: NOW }, { now: NOW, timeouts: true, name: 'edge' }, {}]) {
          const expected = wholeStringExport(format, entries, options)
          expect(exportBlocklist(format, entries, options)).toBe(expected)
          const prepared = formatTimeouts(format, options)
          const pieces = [...exportChunks(format, exportRows(prepareEntries(entries, prepared)), prepared)]
          expect(pieces.join('')).toBe(expected)
          // pieces are a line or one element: a paced stream never has to take a large one at once
          expect(Math.max(0, ...pieces.slice(1).map((p) => p.length))).toBeLessThan(200)
        }
      }
    }
  })

  it.skipIf(typeof nft === 'string')(
    `nft -c accepts the scripts${typeof nft === 'string' ? ` (skipped: ${nft})` : ''}`,
    () => {
      const check = nft as Exclude<typeof nft, string>
      const many: ExportEntry[] = Array.from({ length: 2500 }, (_, i) => ({
        value: `203.${(i >> 8) & 255}.${i & 255}.${(i * 7) & 255}`,
        expiresAt: NOW + (i + 1) * 1000,
      }))
      const inputs = [
        toNftables(ENTRIES, { now: NOW }),
        toNftables(ENTRIES, { now: NOW, timeouts: true }),
        toNftables([], { now: NOW }),
        toNftables([...ENTRIES, ...many, { value: '::/0', expiresAt: NEVER }], { now: NOW, timeouts: true }),
      ]
      for (const script of inputs) {
        const r = check(script)
        expect(r.error).toBe('')
        expect(r.ok).toBe(true)
      }
    },
  )
})
