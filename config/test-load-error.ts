import { expect } from 'vitest'
import { loadConfig, type InvalidConfigError, type LoadConfigOptions } from './index.ts'

/** For config tests: the InvalidConfigError that loading throws; fails the test if it loads. */
export function loadError(opts: LoadConfigOptions): InvalidConfigError {
  try {
    loadConfig(opts)
  } catch (err) {
    expect((err as Error).name).toBe('InvalidConfigError')
    return err as InvalidConfigError
  }
  throw new Error('expected loadConfig to throw')
}
