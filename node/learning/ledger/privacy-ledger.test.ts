import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { computeEpsilon, epsilonForHistory } from '../../../crypto/privacy/index.ts'
import { openStore, type Store } from '../../store/open-store.ts'
import { PrivacyLedger, type ContributionParams } from './privacy-ledger.ts'

const DELTA = 1e-5
const BUDGET = { epsilon: 3, delta: DELTA }
const ROUND: ContributionParams = {
  round: 1,
  sampleRate: 0.01,
  noiseMultiplier: 1.1,
  steps: 200,
  delta: DELTA,
}

const dirs: string[] = []
const stores: Store[] = []
afterEach(async () => {
  for (const db of stores.splice(0)) await db.close()
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
})

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'shieldwall-ledger-'))
  dirs.push(dir)
  return dir
}

async function openLedger(dir: string, budget = BUDGET): Promise<PrivacyLedger> {
  const db = await openStore(dir)
  stores.push(db)
  const ledger = new PrivacyLedger(db, { budget })
  await ledger.open()
  return ledger
}

describe('PrivacyLedger', () => {
  it('starts at zero and composes RDP over every reserved round', async () => {
    const ledger = await openLedger(await tempDir())
    expect(ledger.spent()).toEqual({ epsilon: 0, delta: DELTA, order: NaN })
    const first = await ledger.reserve(ROUND)
    expect(first.epsilon).toBeCloseTo(computeEpsilon({ ...ROUND, delta: DELTA }).epsilon, 12)
    const second = { ...ROUND, round: 2, sampleRate: 0.02, noiseMultiplier: 1.5, steps: 100 }
    const total = await ledger.reserve(second)
    expect(total).toEqual(ledger.spent())
    expect(total.epsilon).toBeCloseTo(epsilonForHistory([ROUND, second], DELTA).epsilon, 12)
    // composing RDP is tighter than adding the rounds' epsilons
    const summed =
      computeEpsilon({ ...ROUND, delta: DELTA }).epsilon + computeEpsilon({ ...second, delta: DELTA }).epsilon
    expect(total.epsilon).toBeLessThan(summed)
    expect(ledger.history().map((c) => c.round)).toEqual([1, 2])
  })

  it('refuses a round that would exceed the budget, and records nothing for it', async () => {
    const ledger = await openLedger(await tempDir(), { epsilon: 1, delta: DELTA })
    const small = { ...ROUND, noiseMultiplier: 2 } // ~0.32
    const big = { ...ROUND, steps: 5000 }
    expect(ledger.canAfford(small)).toBe(true)
    expect(ledger.canAfford(big)).toBe(false)
    expect(ledger.spentAfter(big).epsilon).toBeGreaterThan(1)
    await expect(ledger.reserve(big)).rejects.toMatchObject({ name: 'PrivacyBudgetExceededError' })
    expect(ledger.history()).toEqual([])
    await ledger.reserve(small)
    expect(ledger.history()).toHaveLength(1)
  })

  it('serialises concurrent reservations so they cannot both slip under the budget', async () => {
    const ledger = await openLedger(await tempDir(), { epsilon: 0.8, delta: DELTA })
    const oneFits = { ...ROUND, noiseMultiplier: 2, steps: 1000 } // ~0.69 alone, ~0.99 twice
    expect(ledger.canAfford(oneFits)).toBe(true)
    const results = await Promise.allSettled([
      ledger.reserve(oneFits),
      ledger.reserve({ ...oneFits, round: 2 }),
    ])
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected'])
    expect(ledger.spent().epsilon).toBeLessThanOrEqual(0.8)
  })

  it('persists history and the contributing switch across restarts', async () => {
    const dir = await tempDir()
    const a = await openLedger(dir)
    await a.reserve(ROUND)
    await a.setContributing(false)
    await expect(a.reserve({ ...ROUND, round: 2 })).rejects.toMatchObject({ name: 'ContributionPausedError' })
    const spent = a.spent()
    await stores.pop()!.close()

    const b = await openLedger(dir)
    expect(b.contributing).toBe(false)
    expect(b.spent()).toEqual(spent)
    expect(b.history()).toHaveLength(1)
    await b.setContributing(true)
    await b.reserve({ ...ROUND, round: 2 })
    expect(b.history().map((c) => c.round)).toEqual([1, 2])
  })

  it('never goes backwards: a process killed right after reserve() leaves the entry on disk', async () => {
    const dir = await tempDir()
    const url = (p: string) => JSON.stringify(pathToFileURL(join(import.meta.dirname, p)).href)
    const script = `
      import { writeSync } from 'node:fs'
      import { openStore } from ${url('../../store/open-store.ts')}
      import { PrivacyLedger } from ${url('privacy-ledger.ts')}
      const db = await openStore(process.env.LEDGER_DIR)
      const ledger = new PrivacyLedger(db, { budget: ${JSON.stringify(BUDGET)} })
      await ledger.open()
      const spent = await ledger.reserve(${JSON.stringify(ROUND)})
      writeSync(1, JSON.stringify(spent))
      process.kill(process.pid, 'SIGKILL')
    `
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, LEDGER_DIR: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const signal = await new Promise((resolve) => child.on('exit', (_, sig) => resolve(sig)))
    expect(signal, stderr).toBe('SIGKILL')
    const reported = JSON.parse(stdout)

    const reopened = await openLedger(dir)
    expect(reopened.history()).toEqual([expect.objectContaining(ROUND)])
    expect(reopened.spent().epsilon).toBe(reported.epsilon)
  })

  it('refuses invalid budgets and contributions with InvalidPrivacyParameterError', async () => {
    const dir = await tempDir()
    const db = await openStore(dir)
    stores.push(db)
    const named = expect.objectContaining({ name: 'InvalidPrivacyParameterError' })
    expect(() => new PrivacyLedger(db, { budget: { epsilon: 0, delta: DELTA } })).toThrow(named)
    expect(() => new PrivacyLedger(db, { budget: { epsilon: 1, delta: 1 } })).toThrow(named)
    const ledger = new PrivacyLedger(db, { budget: BUDGET })
    expect(() => ledger.spent()).toThrow(expect.objectContaining({ name: 'LedgerNotOpenError' }))
    await expect(ledger.reserve(ROUND)).rejects.toMatchObject({ name: 'LedgerNotOpenError' })
    await ledger.open()
    expect(() => ledger.canAfford({ ...ROUND, round: -1 })).toThrow(named)
    expect(() => ledger.canAfford({ ...ROUND, sampleRate: 2 })).toThrow(named)
    await expect(ledger.reserve({ ...ROUND, steps: 1.5 })).rejects.toMatchObject({
      name: 'InvalidPrivacyParameterError',
    })
    expect(ledger.history()).toEqual([])
  })
})
