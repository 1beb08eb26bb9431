import fc from 'fast-check'
import { fromPool, signedPool, type SignedMessage } from './arbitraries.ts'
import type { FuzzTarget, Outcome } from './targets.ts'

/**
 * The bounded runs in `npm test`: a fixed seed so a failure is reproducible, overridable to explore more
 * (`FUZZ_SEED=123 FUZZ_RUNS=5000 npx vitest run protocol/fuzz`).
 */
export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20_261_207)
const SCALE = Number(process.env.FUZZ_RUNS ?? 0)

export function runsFor(defaultRuns: number): number {
  return SCALE > 0 ? SCALE : defaultRuns
}

let pool: fc.Arbitrary<SignedMessage> | undefined
/** 64 valid signed messages of every type, signed once per test file */
export function testPool(): fc.Arbitrary<SignedMessage> {
  pool ??= fromPool(signedPool(64, FUZZ_SEED))
  return pool
}

export class FuzzFindingError extends Error {
  override name = 'FuzzFindingError'
}

/** fc.assert over a target: any outcome but OK fails, and fast-check shrinks it and prints seed and path. */
export function assertTarget<T>(target: FuzzTarget<T>, numRuns: number): void {
  fc.assert(
    fc.property(target.arbitrary, (input) => {
      const outcome: Outcome = target.run(input)
      if (outcome.kind !== 'ok') throw new FuzzFindingError(`${outcome.kind}: ${outcome.detail}`)
    }),
    { numRuns: runsFor(numRuns), seed: FUZZ_SEED },
  )
}
