import type { Worker } from 'node:worker_threads'
import type { EventBatch } from './event-batch.ts'
import { startReplayWorker } from './replay-pool.ts'
import type { ReplayWorkerInput, ReplayWorkerJob, ReplayWorkerOutput } from './replay-worker.ts'
import type { StagedFinding } from './staged-findings.ts'

export class ReplayWorkerError extends Error {
  override name = 'ReplayWorkerError'
}

/**
 * The main thread's handle on one replay worker (`replay-worker.ts`): posts it batches, counts those it has not
 * yet acknowledged, and collects its findings at the end. A worker that fails or exits early fails every wait
 * on it, so the scan never hangs on a dead thread.
 */
export class DetectorThread {
  readonly #worker: Worker
  readonly #result: Promise<StagedFinding[]>
  #outstanding = 0
  #failure: Error | undefined
  #waiter: { below: number; resolve: () => void; reject: (e: Error) => void } | undefined

  /** `done` is told each batch's slot once this worker has read it */
  constructor(job: ReplayWorkerJob, done: (slot: number) => void) {
    const worker = startReplayWorker(job)
    worker.ref()
    this.#worker = worker
    this.#result = new Promise<StagedFinding[]>((resolve, reject) => {
      const fail = (e: Error) => {
        this.#failure ??= e
        reject(this.#failure)
        this.#waiter?.reject(this.#failure)
        this.#waiter = undefined
      }
      worker.on('message', (m: ReplayWorkerOutput) => {
        if (m.type === 'result') return resolve(m.findings)
        this.#outstanding--
        done(m.slot)
        const w = this.#waiter
        if (w !== undefined && this.#outstanding <= w.below) {
          this.#waiter = undefined
          w.resolve()
        }
      })
      worker.once('error', fail)
      worker.once('exit', (code) =>
        fail(new ReplayWorkerError(`replay worker exited with code ${code} before sending its findings`)),
      )
    })
    // awaited by `finish`; a failure before then must not count as unhandled
    this.#result.catch(() => {})
  }

  /** batches posted and not yet acknowledged */
  get outstanding(): number {
    return this.#outstanding
  }

  post(batch: EventBatch): void {
    this.#worker.postMessage({ type: 'batch', batch } satisfies ReplayWorkerInput)
    this.#outstanding++
  }

  /** Resolves once at most `count` batches are outstanding. */
  below(count: number): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure)
    if (this.#outstanding <= count) return Promise.resolve()
    return new Promise((resolve, reject) => {
      this.#waiter = { below: count, resolve, reject }
    })
  }

  /** Tells the worker the data has ended; resolves with its findings, in order. */
  finish(): Promise<StagedFinding[]> {
    if (this.#failure === undefined) this.#worker.postMessage({ type: 'end' } satisfies ReplayWorkerInput)
    return this.#result
  }

  terminate(): void {
    void this.#worker.terminate()
  }
}
