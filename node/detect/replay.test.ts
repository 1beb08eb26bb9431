import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateNginx, generateSshd } from '../../bench/detect/generate-logs.ts'
import { loadConfig } from '../../config/index.ts'
import { createDetectionEngine } from './create-engine.ts'
import { replayFiles, shareOut } from './replay.ts'

let dir: string
let sshd: string
let nginx: string
let flood: string

/** half an hour of quiet traffic from 2,000 addresses, then 20 addresses at 10 requests a second each */
function floodLog(): string {
  const lines: string[] = []
  const stamp = (s: number) => {
    const d = new Date(Date.UTC(2025, 4, 17, 10, 0, 0) + s * 1000)
    const p = (n: number) => String(n).padStart(2, '0')
    return `${p(d.getUTCDate())}/May/2025:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`
  }
  const line = (ip: string, s: number, path: string, status: number) =>
    `${ip} - - [${stamp(s)}] "GET ${path} HTTP/1.1" ${status} 512 "-" "Mozilla/5.0 (X11; Linux x86_64)"`
  let n = 1
  for (let s = 0; s < 1800; s++) {
    for (let k = 0; k < 5; k++) {
      n = (n * 48271) % 2147483647
      lines.push(line(`10.1.${(n >> 8) & 7}.${n & 255}`, s, `/page/${n % 40}`, 200))
    }
  }
  for (let s = 1800; s < 1900; s++) {
    for (let k = 0; k < 200; k++)
      lines.push(line(`192.0.2.${1 + (k % 20)}`, s, `/search?q=${s}-${k}`, k % 3 ? 200 : 404))
  }
  return lines.join('\n') + '\n'
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'shieldwall-replay-'))
  sshd = join(dir, 'auth.log')
  nginx = join(dir, 'access.log')
  await generateSshd(sshd, 40_000)
  await generateNginx(nginx, 40_000)
  flood = join(dir, 'flood.log')
  writeFileSync(flood, floodLog())
})

afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** a low decision threshold lets the window detectors decide alone, so their findings' order matters too */
function config(threshold: number) {
  return { ...loadConfig({ env: {}, cli: {} }).detect, threshold }
}

describe('replayFiles on worker threads', () => {
  for (const threshold of [0.7, 0.3]) {
    it(`decides exactly as on one thread (threshold ${threshold})`, async () => {
      const files = [
        { path: sshd, format: 'sshd' },
        { path: nginx, format: 'nginx' },
        { path: flood, format: 'nginx' },
      ]
      const one = await replayFiles(files, createDetectionEngine(config(threshold)), { threads: 1 })
      expect(one.decisions.length).toBeGreaterThan(10)
      const detectors = new Set(one.decisions.flatMap((d) => d.detectors))
      expect(detectors.size).toBeGreaterThan(1)
      // every detector on one worker, and the scenarios and window detectors on a worker each
      for (const workers of [1, 2]) {
        const two = await replayFiles(files, createDetectionEngine(config(threshold)), {
          threads: 2,
          workers,
        })
        expect(two.decisions).toEqual(one.decisions)
        expect(two.files).toEqual(one.files)
        expect([two.lines, two.parsed, two.unparsed]).toEqual([one.lines, one.parsed, one.unparsed])
      }
    })
  }

  it('keeps detectors handed in by code on this thread', async () => {
    const seen: string[] = []
    const engine = createDetectionEngine(config(0.7), {
      detectors: [
        {
          name: 'model',
          observe(e) {
            if (e.kind !== 'invalid_user' || seen.includes(e.ip)) return undefined
            seen.push(e.ip)
            return {
              detector: 'model',
              scenario: 'custom',
              ip: e.ip,
              score: 1,
              events: 1,
              first: e.time,
              last: e.time,
              reasons: ['x'],
            }
          },
        },
      ],
    })
    const two = await replayFiles([{ path: sshd, format: 'sshd' }], engine, { threads: 2 })
    expect(two.decisions.some((d) => d.detectors.includes('model'))).toBe(true)
  })
})

describe('shareOut', () => {
  it('gives each thread a run of neighbouring groups, and no thread none', () => {
    const groups = [[0], [1, 2, 3]]
    expect(shareOut(groups, 1)).toEqual([[0, 1, 2, 3]])
    expect(shareOut(groups, 2)).toEqual([[0], [1, 2, 3]])
    expect(shareOut(groups, 5)).toEqual([[0], [1, 2, 3]])
    expect(shareOut([[0], [1], [2]], 2)).toEqual([[0], [1, 2]])
  })
})
