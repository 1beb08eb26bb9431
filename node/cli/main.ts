// The `shieldwall` command's entry point, kept tiny on purpose: `shieldwall detect` starts its worker threads
// here, so they load their modules on the second core while this thread loads the rest of the CLI (cli.ts).
import { startReplayWorkersEarly } from '../detect/replay-pool.ts'

startReplayWorkersEarly(process.argv.slice(2))
const { run } = await import('./cli.ts')
await run(process.argv.slice(2))
