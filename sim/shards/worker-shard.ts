import { Worker } from 'node:worker_threads'
import { SimNetworkError } from '../network.ts'
import type { Shard, ShardInit } from './shard.ts'

export type ShardMethod = keyof Shard

export interface ShardRequest {
  id: number
  method: ShardMethod
  args: unknown[]
}

export type ShardResponse =
  { id: number; result: unknown } | { id: number; error: { name: string; message: string; stack: string } }

/** The error a shard's worker reported, with the worker's error name and stack. */
export class ShardError extends Error {
  override name = 'ShardError'
  readonly remoteName: string

  constructor(shard: number, remote: { name: string; message: string; stack?: string }) {
    super(`shard ${shard}: ${remote.name}: ${remote.message}`)
    this.remoteName = remote.name
    if (remote.stack !== undefined) this.stack = `${this.message}\n--- in the worker ---\n${remote.stack}`
  }
}

const DESTROY_TIMEOUT_MS = 30_000

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void }

/**
 * A shard in a worker thread: the same `Shard` interface as one in this thread, each call a message to the
 * worker. If the worker dies, every call in flight and every later one fails with the reason.
 */
export class WorkerShard implements Shard {
  readonly #worker: Worker
  readonly #pending = new Map<number, Pending>()
  readonly #index: number
  #nextId = 0
  #dead: Error | undefined

  constructor(index: number, init: ShardInit) {
    this.#index = index
    this.#worker = new Worker(new URL('./shard-worker.ts', import.meta.url), { workerData: init })
    this.#worker.on('message', (res: ShardResponse) => {
      const p = this.#pending.get(res.id)
      if (p === undefined) return
      this.#pending.delete(res.id)
      if ('error' in res) p.reject(new ShardError(this.#index, res.error))
      else p.resolve(res.result)
    })
    this.#worker.on('error', (err) => this.#fail(new ShardError(this.#index, err)))
    this.#worker.on('exit', (code) =>
      this.#fail(new SimNetworkError(`shard ${this.#index}: its worker exited (code ${code})`)),
    )
  }

  #fail(err: Error): void {
    this.#dead ??= err
    for (const p of this.#pending.values()) p.reject(err)
    this.#pending.clear()
  }

  #call<T>(method: ShardMethod, ...args: unknown[]): Promise<T> {
    if (this.#dead !== undefined) return Promise.reject(this.#dead)
    const id = this.#nextId++
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject })
      this.#worker.postMessage({ id, method, args } satisfies ShardRequest)
    })
  }

  create: Shard['create'] = () => this.#call('create')
  start: Shard['start'] = (index) => this.#call('start', index)
  stop: Shard['stop'] = (index) => this.#call('stop', index)
  knowAddresses: Shard['knowAddresses'] = (index, addresses) => this.#call('knowAddresses', index, addresses)
  append: Shard['append'] = (batches) => this.#call('append', batches)
  falseReport: Shard['falseReport'] = (index, ip) => this.#call('falseReport', index, ip)
  subscribersReady: Shard['subscribersReady'] = () => this.#call('subscribersReady')
  sample: Shard['sample'] = () => this.#call('sample')
  trustSums: Shard['trustSums'] = (observers) => this.#call('trustSums', observers)
  trustPairs: Shard['trustPairs'] = (honest, threshold, min) =>
    this.#call('trustPairs', honest, threshold, min)
  partition: Shard['partition'] = (groups) => this.#call('partition', groups)
  heal: Shard['heal'] = () => this.#call('heal')
  resetObservations: Shard['resetObservations'] = () => this.#call('resetObservations')
  capabilities: Shard['capabilities'] = () => this.#call('capabilities')
  collect: Shard['collect'] = () => this.#call('collect')

  /**
   * Stops the shard's nodes, then the worker (which may hold timers of stopped nodes' libraries). A node that
   * will not stop does not hold the run: after `DESTROY_TIMEOUT_MS` the worker is terminated anyway.
   */
  destroy: Shard['destroy'] = async () => {
    let timer: NodeJS.Timeout | undefined
    try {
      if (this.#dead === undefined)
        await Promise.race([
          this.#call('destroy'),
          new Promise((_, reject) => {
            timer = setTimeout(
              () => reject(new SimNetworkError(`shard ${this.#index}: its nodes did not stop in time`)),
              DESTROY_TIMEOUT_MS,
            )
          }),
        ])
    } finally {
      clearTimeout(timer)
      this.#dead ??= new SimNetworkError(`shard ${this.#index} was destroyed`)
      await this.#worker.terminate()
    }
  }
}
