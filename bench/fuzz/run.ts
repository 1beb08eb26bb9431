/**
 * The wire-format fuzzer at scale: by default 1,000,000 cases across every target of `protocol/fuzz/targets.ts`
 * (the same properties `npm test` runs a few hundred times), on worker threads, one per core. Prints per target
 * and in total: cases run, crashes, accepted forgeries, round-trip mismatches, hangs and cases/s. Exits 1 on any
 * finding, and prints the target, seed and case count that replay it with `--replay`.
 *
 *   npm run bench:fuzz                                  # 1,000,000 cases, 2 workers, stops dispatching at 20 min
 *   node bench/fuzz/run.ts --cases 50000 --workers 1    # a quicker look
 *   node bench/fuzz/run.ts --replay envelope-mutation --seed 1207042 --cases 5000
 *                                                       # fc.assert on one chunk: stops at the first finding and
 *                                                       # prints fast-check's shrunk counterexample
 */
import { availableParallelism } from 'node:os'
import { parseArgs } from 'node:util'
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads'
import fc from 'fast-check'
import { fromPool, signedPool } from '../../protocol/fuzz/arbitraries.ts'
import { allTargets, type FuzzTarget } from '../../protocol/fuzz/targets.ts'

/** share of the cases each target gets; the costly ones (signing, stack overflows) get fewer */
const WEIGHTS: Record<string, number> = {
  'envelope-bytes': 15,
  'envelope-mutation': 22,
  'envelope-fields': 12,
  'envelope-respelling': 8,
  'envelope-added-entry': 3,
  'envelope-deep-nesting': 1,
  'forged-signature': 2,
  'envelope-roundtrip': 5,
  'summary-intake': 5,
  'model-update-weights': 7,
  'alert-sync-frames': 8,
  'model-sync-frames': 8,
  'noise-frame-length': 4,
}

/** cases per chunk: one fast-check run with its own seed, the unit of work, progress and replay */
const CHUNK = 5000
/** valid signed messages each worker draws from (signing each case would cost a millisecond) */
const POOL_SIZE = 2000
const POOL_SEED = 15
/** one case slower than this is a hang; a worker silent this long is stuck and is replaced */
const HANG_MS = 5000
const STUCK_MS = 120_000
/** findings kept per target for the report */
const KEEP_FINDINGS = 3

interface Chunk {
  target: string
  seed: number
  cases: number
}

/** counts over one chunk or, summed, over a target or the whole run */
interface Totals {
  cases: number
  crashes: number
  forgeries: number
  mismatches: number
  hangs: number
  ms: number
  /** the slowest single case */
  maxMs: number
  findings: string[]
}

function noTotals(): Totals {
  return { cases: 0, crashes: 0, forgeries: 0, mismatches: 0, hangs: 0, ms: 0, maxMs: 0, findings: [] }
}

interface ChunkResult extends Totals {
  target: string
  seed: number
}

type FromWorker = { kind: 'ready' } | { kind: 'beat' } | { kind: 'done'; result: ChunkResult }

function targetsByName(): Map<string, FuzzTarget<unknown>> {
  const pool = fromPool(signedPool(POOL_SIZE, POOL_SEED))
  return new Map(allTargets(pool).map((t) => [t.name, t as FuzzTarget<unknown>]))
}

// ---- worker ----

function runChunk(target: FuzzTarget<unknown>, chunk: Chunk, beat: () => void): ChunkResult {
  const result: ChunkResult = { ...noTotals(), target: chunk.target, seed: chunk.seed }
  const started = performance.now()
  fc.check(
    fc.property(target.arbitrary, (input) => {
      const t0 = performance.now()
      let outcome
      try {
        outcome = target.run(input)
      } catch (err) {
        // a target's own checks never throw: anything here escaped the code under test
        outcome = { kind: 'crash' as const, detail: `escaped the target: ${String(err)}` }
      }
      const took = performance.now() - t0
      result.cases++
      result.maxMs = Math.max(result.maxMs, took)
      if (took > HANG_MS) {
        result.hangs++
        note(result, `hang: case ${result.cases} took ${Math.round(took)} ms`)
      }
      if (outcome.kind === 'crash') result.crashes++
      if (outcome.kind === 'forgery') result.forgeries++
      if (outcome.kind === 'mismatch') result.mismatches++
      if (outcome.kind !== 'ok') note(result, `${outcome.kind} at case ${result.cases}: ${outcome.detail}`)
      if (result.cases % 500 === 0) beat()
      return true
    }),
    { numRuns: chunk.cases, seed: chunk.seed },
  )
  result.ms = performance.now() - started
  return result
}

function note(result: ChunkResult, finding: string): void {
  if (result.findings.length < KEEP_FINDINGS) result.findings.push(finding.slice(0, 500))
}

if (!isMainThread && workerData?.fuzzWorker === true) {
  const targets = targetsByName()
  const port = parentPort!
  const send = (m: FromWorker) => port.postMessage(m)
  port.on('message', (chunk: Chunk) => {
    const target = targets.get(chunk.target)!
    send({ kind: 'done', result: runChunk(target, chunk, () => send({ kind: 'beat' })) })
  })
  send({ kind: 'ready' })
}

// ---- main ----

function plan(total: number, only: string | undefined, baseSeed: number): Chunk[] {
  const names = Object.keys(WEIGHTS).filter((n) => only === undefined || n === only)
  const weightSum = names.reduce((s, n) => s + WEIGHTS[n], 0)
  const perTarget = names.map((name, i) => {
    // the last target takes the rounding so the total is exact
    const share = i === names.length - 1 ? 0 : Math.round((total * WEIGHTS[name]) / weightSum)
    return { name, share }
  })
  perTarget[perTarget.length - 1].share = total - perTarget.slice(0, -1).reduce((s, t) => s + t.share, 0)
  const chunks: (Chunk & { order: number })[] = []
  perTarget.forEach(({ name, share }, t) => {
    const n = Math.ceil(share / CHUNK)
    for (let i = 0; i < n; i++) {
      chunks.push({
        target: name,
        seed: baseSeed + t * 100_000 + i,
        cases: Math.min(CHUNK, share - i * CHUNK),
        // interleaved, so a time guard that stops early leaves every target about equally done
        order: (i + 0.5) / n,
      })
    }
  })
  return chunks.sort((a, b) => a.order - b.order).map(({ order: _, ...c }) => c)
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      cases: { type: 'string', default: '1000000' },
      workers: { type: 'string', default: String(Math.min(2, availableParallelism())) },
      minutes: { type: 'string', default: '20' },
      seed: { type: 'string', default: '1207000' },
      target: { type: 'string' },
      replay: { type: 'string' },
    },
  })
  if (values.replay !== undefined) return replay(values.replay, Number(values.seed), Number(values.cases))
  const total = Number(values.cases)
  const workers = Math.max(1, Number(values.workers))
  // a chunk takes seconds; stop handing out new ones a little before the limit
  const deadline = Date.now() + Number(values.minutes) * 60_000 - 30_000
  const queue = plan(total, values.target, Number(values.seed))
  const totals = new Map<string, Totals>()
  const started = Date.now()
  let done = 0
  let stoppedEarly = false

  const record = (r: ChunkResult) => {
    const t = totals.get(r.target) ?? noTotals()
    t.maxMs = Math.max(t.maxMs, r.maxMs)
    t.cases += r.cases
    t.crashes += r.crashes
    t.forgeries += r.forgeries
    t.mismatches += r.mismatches
    t.hangs += r.hangs
    t.ms += r.ms
    for (const f of r.findings) {
      if (t.findings.length < KEEP_FINDINGS) t.findings.push(`seed ${r.seed} (${r.cases} cases): ${f}`)
    }
    totals.set(r.target, t)
    done += r.cases
  }

  console.log(
    `fuzzing ${total.toLocaleString('en')} cases over ${new Set(queue.map((c) => c.target)).size} targets on ${workers} worker(s), ${queue.length} chunks`,
  )

  await Promise.all(
    Array.from({ length: workers }, async function drive() {
      while (queue.length > 0) {
        if (Date.now() > deadline) {
          stoppedEarly = true
          return
        }
        const outcome = await runOnWorker(queue)
        if (outcome === undefined) continue
        record(outcome)
        const elapsed = (Date.now() - started) / 1000
        process.stdout.write(
          `\r${done.toLocaleString('en')} cases, ${Math.round(done / elapsed)} cases/s, ${Math.round(elapsed)} s   `,
        )
      }
    }),
  )
  if (pending !== undefined) for (const w of pending) await w.terminate()
  const wallS = (Date.now() - started) / 1000
  process.stdout.write('\n')
  report(totals, wallS, total, stoppedEarly)
}

/** idle workers, started on demand and replaced when one gets stuck */
let pending: Set<Worker> | undefined
const idle: Worker[] = []

function spawn(): Promise<Worker> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: { fuzzWorker: true } })
    pending ??= new Set()
    pending.add(worker)
    const onReady = (m: FromWorker) => {
      if (m.kind !== 'ready') return
      worker.off('message', onReady)
      resolve(worker)
    }
    worker.on('message', onReady)
    worker.once('error', reject)
  })
}

async function runOnWorker(queue: Chunk[]): Promise<ChunkResult | undefined> {
  const worker = idle.pop() ?? (await spawn())
  const chunk = queue.shift()
  if (chunk === undefined) {
    idle.push(worker)
    return undefined
  }
  return new Promise((resolve) => {
    let watchdog: NodeJS.Timeout
    const arm = () => {
      clearTimeout(watchdog)
      watchdog = setTimeout(async () => {
        // no heartbeat for STUCK_MS: a case that never returns is a hang; the chunk is reported, not retried
        worker.off('message', onMessage)
        pending?.delete(worker)
        await worker.terminate()
        resolve({
          ...noTotals(),
          ...chunk,
          cases: 0,
          hangs: 1,
          ms: STUCK_MS,
          maxMs: STUCK_MS,
          findings: [
            `hang: the worker went silent for ${STUCK_MS / 1000} s (replay this chunk with --replay)`,
          ],
        })
      }, STUCK_MS)
    }
    const onMessage = (m: FromWorker) => {
      if (m.kind === 'beat') return arm()
      if (m.kind !== 'done') return
      clearTimeout(watchdog)
      worker.off('message', onMessage)
      idle.push(worker)
      resolve(m.result)
    }
    worker.on('message', onMessage)
    arm()
    worker.postMessage(chunk)
  })
}

function report(totals: Map<string, Totals>, wallS: number, asked: number, stoppedEarly: boolean): void {
  const rows = [...totals.entries()]
  const all = noTotals()
  const head = ['target', 'cases', 'crashes', 'forgeries', 'mismatches', 'hangs', 'cases/s', 'slowest ms']
  const lines = [head]
  for (const [name, t] of rows) {
    for (const k of ['cases', 'crashes', 'forgeries', 'mismatches', 'hangs', 'ms'] as const) all[k] += t[k]
    all.maxMs = Math.max(all.maxMs, t.maxMs)
    // per target: cases per second of one worker's time on it
    lines.push([name, ...counts(t), String(Math.round(t.cases / (t.ms / 1000))), t.maxMs.toFixed(0)])
  }
  // in total: cases per second of wall time, all workers together
  lines.push(['total', ...counts(all), String(Math.round(all.cases / wallS)), all.maxMs.toFixed(0)])
  const widths = head.map((_, i) => Math.max(...lines.map((l) => l[i].length)))
  for (const l of lines)
    console.log(l.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '))
  console.log(
    `${all.cases.toLocaleString('en')} of ${asked.toLocaleString('en')} cases in ${wallS.toFixed(0)} s wall (${Math.round(all.cases / wallS)} cases/s)` +
      (stoppedEarly ? '; stopped by the time guard' : ''),
  )
  const findings = rows.flatMap(([name, t]) => t.findings.map((f) => `${name}: ${f}`))
  for (const f of findings) console.log(`  ${f}`)
  if (findings.length > 0) {
    console.log('replay one with: node bench/fuzz/run.ts --replay <target> --seed <seed> --cases <cases>')
  }
  if (all.crashes + all.forgeries + all.mismatches + all.hangs > 0) process.exitCode = 1
}

function counts(t: Totals): string[] {
  return [
    t.cases.toLocaleString('en'),
    String(t.crashes),
    String(t.forgeries),
    String(t.mismatches),
    String(t.hangs),
  ]
}

/** One chunk under fc.assert: the first finding stops it and fast-check prints the shrunk counterexample. */
function replay(name: string, seed: number, cases: number): void {
  const target = targetsByName().get(name)
  if (target === undefined) throw new Error(`no target ${name}; targets: ${Object.keys(WEIGHTS).join(', ')}`)
  fc.assert(
    fc.property(target.arbitrary, (input) => {
      const outcome = target.run(input)
      if (outcome.kind !== 'ok') throw new Error(`${outcome.kind}: ${outcome.detail}`)
    }),
    { numRuns: cases, seed },
  )
  console.log(`${name}: ${cases} cases from seed ${seed}, no finding`)
}

if (isMainThread) await main()
