import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

type GcFunction = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void
let gc: GcFunction | undefined

/**
 * Hands the garbage of start-up back to the operating system: a memory-reducing full collection, which also
 * shrinks the young generation V8 grew while loading and compiling modules (64 MB and more, touched once and
 * never again on a thread that then only waits for workers). V8 offers it only through `gc`, which the flag
 * exposes in contexts created after it is set. Best effort: where that is refused nothing happens.
 */
export function releaseStartupMemory(): void {
  try {
    if (gc === undefined) {
      setFlagsFromString('--expose-gc')
      gc = runInNewContext('gc') as GcFunction
    }
    gc({ type: 'major', execution: 'sync', flavor: 'last-resort' })
  } catch {
    // not worth failing a replay over
  }
}
