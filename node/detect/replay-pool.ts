import { statSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'

/** Inputs at least this large are replayed on two threads (when there is a second core). */
export const PARALLEL_MIN_BYTES = 16 * 1024 * 1024
/**
 * A worker's young generation is capped: its allocations die young, and a small nursery keeps the process's
 * peak RSS down at little cost in GC time.
 */
export const WORKER_YOUNG_GENERATION_MB = 24
/** detector groups of an engine built from config (create-engine.ts): the scenarios, the window detectors */
const CONFIG_GROUPS = 2

/**
 * Detector threads for a parallel replay of an engine with `groups` detector groups: one per core beyond the
 * parsing thread, at most one per group. On two cores that is one thread for every detector: a second one
 * would leave three busy threads on two cores, and the parse (the longest single stage) would wait its turn
 * behind them, while one thread keeps up with it on sshd logs and nearly on nginx logs (docs in replay.ts).
 */
export function detectorThreads(groups: number): number {
  return Math.max(1, Math.min(groups, availableParallelism() - 1))
}

const WORKER_URL = new URL('./replay-worker.ts', import.meta.url)
const warm: Worker[] = []

/**
 * Starts a replay worker that loads its modules and then waits for its job (a message): starting a thread
 * and type-stripping its modules takes a good part of a second, time that can overlap the main thread's own
 * start-up. Without `job`, the worker waits; `startReplayWorker(job)` posts it, or starts a fresh one.
 */
function spawn(job?: unknown): Worker {
  return new Worker(WORKER_URL, {
    workerData: job ?? null,
    resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
  })
}

/** A worker for this job: a warm one when `startReplayWorkersEarly` made them, else a new one. */
export function startReplayWorker(job: unknown): Worker {
  const worker = warm.shift()
  if (worker === undefined) return spawn(job)
  worker.postMessage(job)
  return worker
}

/** Ends warm workers that were not needed (the replay chose one thread after all). */
export function releaseWarmReplayWorkers(): void {
  for (const worker of warm.splice(0)) void worker.terminate()
}

/**
 * Called first thing by the CLI entry point with its arguments: for `detect` over enough input to run in
 * parallel, starts the workers now. Only cheap checks here (argument shapes, file sizes); anything unusual
 * simply starts nothing, and the replay later starts its workers itself.
 */
export function startReplayWorkersEarly(argv: readonly string[]): void {
  if (argv[0] !== 'detect' || availableParallelism() < 2) return
  const files: string[] = []
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--help' || a === '-h' || a === '--threads=1') return
    if (a === '--threads') {
      if (argv[i + 1] === '1') return
      i++
    } else if (a === '--format' || a === '--config') i++
    else if (!a.startsWith('-')) files.push(a)
  }
  let bytes = 0
  for (const file of files) {
    try {
      bytes += statSync(file).size
    } catch {
      return
    }
  }
  if (bytes < PARALLEL_MIN_BYTES) return
  for (let i = 0; i < detectorThreads(CONFIG_GROUPS); i++) {
    const worker = spawn()
    // an unused warm worker must never keep the process alive
    worker.unref()
    warm.push(worker)
  }
}
