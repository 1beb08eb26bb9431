/**
 * Entry point of a worker thread that runs one shard. Each request from the orchestrator names a `Shard`
 * method and its arguments; the answer carries the result or the error (its name and message kept).
 */
import { parentPort, workerData } from 'node:worker_threads'
import { ShardRuntime } from './shard-runtime.ts'
import type { ShardInit } from './shard.ts'
import type { ShardRequest, ShardResponse } from './worker-shard.ts'

const port = parentPort
if (port === null) throw new Error('shard-worker.ts runs as a worker thread')

const runtime = new ShardRuntime(workerData as ShardInit)

port.on('message', (req: ShardRequest) => {
  const method = runtime[req.method] as (...args: unknown[]) => Promise<unknown>
  method
    .apply(runtime, req.args)
    .then((result) => port.postMessage({ id: req.id, result } satisfies ShardResponse))
    .catch((err: unknown) => {
      const e = err instanceof Error ? err : new Error(String(err))
      port.postMessage({
        id: req.id,
        error: { name: e.name, message: e.message, stack: e.stack ?? '' },
      } satisfies ShardResponse)
    })
})
