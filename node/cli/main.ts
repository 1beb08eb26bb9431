// The `shieldwall` command's entry point, kept tiny on purpose: `shieldwall detect` starts its worker threads
// here, so they load their modules on the second core while this thread loads the rest of the CLI (cli.ts).
import { enableCompileCache } from 'node:module'
import { startReplayWorkersEarly } from '../detect/replay-pool.ts'

// Type-stripping and compiling the CLI's modules is most of a command's start-up (about 0.4 s of CPU on each
// thread of `shieldwall detect`); Node keeps the result in a cache under the temp directory (NODE_COMPILE_CACHE
// overrides where) and checks it against each file's content. A cache that cannot be written is skipped.
enableCompileCache()

const SIM_THREAD_POOL_SIZE = 32

startReplayWorkersEarly(process.argv.slice(2))
// The simulator runs dozens of nodes in this one process, and every level read and write of each of them goes
// through libuv's thread pool (4 threads by default): with 50 nodes, a gossip hop waited on the pool's queue.
// libuv reads this when the pool first starts, which has not happened yet here.
if (process.argv[2] === 'sim') process.env.UV_THREADPOOL_SIZE ??= String(SIM_THREAD_POOL_SIZE)
const { run } = await import('./cli.ts')
await run(process.argv.slice(2))
