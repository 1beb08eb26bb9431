import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { formatPrivacyEpsilon, privacyEpsilon } from './privacy-command.ts'

interface ReferenceCase {
  sampleRate: number
  noiseMultiplier: number
  steps: number
  delta: number
  epsilon: number
  order: number
  epsilonClassic: number
  orderClassic: number
}
const REFERENCE = join(import.meta.dirname, '../../../shared/data/dp-reference/opacus-rdp.json')
const { cases } = JSON.parse(readFileSync(REFERENCE, 'utf8')) as { cases: ReferenceCase[] }
const CLI = join(import.meta.dirname, 'main.ts')
const CONTRACT_REL_ERROR = 0.01

const flags = (c: ReferenceCase) => [
  '--sample-rate',
  String(c.sampleRate),
  '--noise-multiplier',
  String(c.noiseMultiplier),
  '--steps',
  String(c.steps),
  '--delta',
  String(c.delta),
]

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('exit', (code) => resolve({ code, stdout, stderr }))
  })
}

describe('shieldwall privacy epsilon', () => {
  it.each(cases)('matches Opacus within 1%: q=$sampleRate sigma=$noiseMultiplier steps=$steps', (c) => {
    const tight = privacyEpsilon([...flags(c), '--json'])
    expect(Math.abs(tight.epsilon - c.epsilon) / c.epsilon).toBeLessThan(CONTRACT_REL_ERROR)
    expect(tight.order).toBe(c.order)
    expect(tight.json).toBe(true)
    const classic = privacyEpsilon([...flags(c), '--conversion', 'classic'])
    expect(Math.abs(classic.epsilon - c.epsilonClassic) / c.epsilonClassic).toBeLessThan(CONTRACT_REL_ERROR)
    expect(classic.order).toBe(c.orderClassic)
    expect(classic.epsilon).toBeGreaterThan(tight.epsilon)
  })

  it('formats JSON as {epsilon, delta, order} and text for people', () => {
    const result = privacyEpsilon(flags(cases[0]))
    expect(JSON.parse(formatPrivacyEpsilon(result, true))).toEqual({
      epsilon: result.epsilon,
      delta: 1e-5,
      order: cases[0].order,
    })
    expect(formatPrivacyEpsilon(result, false)).toMatch(/^epsilon 2\.5966 at delta 0\.00001 \(RDP order 8\.1/)
    const none = privacyEpsilon([...flags(cases[0]).slice(0, 4), '--steps', '0', '--delta', '1e-5'])
    expect(JSON.parse(formatPrivacyEpsilon(none, true))).toEqual({ epsilon: 0, delta: 1e-5, order: null })
  })

  it('refuses missing and malformed flags with a UsageError', () => {
    const usage = expect.objectContaining({ name: 'UsageError' })
    const ok = flags(cases[0])
    expect(() => privacyEpsilon(ok.slice(2))).toThrow(usage)
    for (const [flag, bad] of [
      ['--sample-rate', '0'],
      ['--sample-rate', '1.5'],
      ['--noise-multiplier', '0'],
      ['--noise-multiplier', 'abc'],
      ['--steps', '1.5'],
      ['--steps', ''],
      ['--delta', '1'],
      ['--conversion', 'loose'],
    ]) {
      expect(() => privacyEpsilon([...ok, flag, bad]), `${flag} ${bad}`).toThrow(usage)
    }
  })

  it('runs as a process: JSON on stdout, exit 0; bad flags exit 2 with the message only', async () => {
    const c = cases[3]
    const ok = await run(['privacy', 'epsilon', ...flags(c), '--json'])
    expect(ok.code, ok.stderr).toBe(0)
    const out = JSON.parse(ok.stdout)
    expect(Object.keys(out)).toEqual(['epsilon', 'delta', 'order'])
    expect(Math.abs(out.epsilon - c.epsilon) / c.epsilon).toBeLessThan(CONTRACT_REL_ERROR)
    expect(out.order).toBe(c.order)
    expect(out.delta).toBe(c.delta)

    const classic = await run(['privacy', 'epsilon', ...flags(c), '--conversion', 'classic', '--json'])
    expect(Math.abs(JSON.parse(classic.stdout).epsilon - c.epsilonClassic) / c.epsilonClassic).toBeLessThan(
      0.01,
    )

    const bad = await run(['privacy', 'epsilon', ...flags(c), '--delta', '2'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/^shieldwall: privacy epsilon: --delta 2: expected/)
  })
})
