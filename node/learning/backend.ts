/**
 * One TensorFlow.js runtime per process. The native binding (`@tensorflow/tfjs-node`) is an optional dependency
 * that often fails to build on small or offline hosts, so it is tried first and the portable backends are the
 * fallback: wasm (SIMD, loaded from the installed package, no network) then plain JavaScript. Every learning
 * function takes the `tf` returned here rather than importing tfjs itself, so the native build, when it loads,
 * is the one all tensors live in.
 */
import { createRequire } from 'node:module'
import { dirname } from 'node:path'
import type * as TfModule from '@tensorflow/tfjs'

export type Tf = typeof TfModule
export type TensorflowBackend = 'tensorflow' | 'wasm' | 'cpu'

export interface TensorflowRuntime {
  tf: Tf
  /** the backend every tensor runs on; what status reports */
  backend: TensorflowBackend
}

export interface TensorflowInit {
  /** backends to try, in order; all three unless given (tests pin 'cpu' or 'wasm' to compare them) */
  prefer: readonly TensorflowBackend[]
}

export const DEFAULT_TENSORFLOW_INIT: TensorflowInit = { prefer: ['tensorflow', 'wasm', 'cpu'] }

export class TensorflowUnavailableError extends Error {
  override name = 'TensorflowUnavailableError'
}

// A variable specifier: the package is optional, so neither tsc nor a bundler may insist that it resolves.
const TFJS_NODE = '@tensorflow/tfjs-node'

let runtime: Promise<TensorflowRuntime> | undefined
let active: TensorflowBackend | undefined

/**
 * Load TensorFlow.js once and pick the fastest backend that works here. Idempotent: later calls (with any init)
 * return the first call's runtime, since tfjs has one global engine per process.
 */
export function initTensorflow(init: Partial<TensorflowInit> = {}): Promise<TensorflowRuntime> {
  runtime ??= load({ ...DEFAULT_TENSORFLOW_INIT, ...init }).then((r) => {
    active = r.backend
    return r
  })
  return runtime
}

/** the backend in use, or undefined before `initTensorflow` has resolved */
export function activeTensorflowBackend(): TensorflowBackend | undefined {
  return active
}

/** The directory the wasm binaries ship in, so the wasm backend never fetches them from a CDN. */
export function wasmBinaryDirectory(): string {
  const require = createRequire(import.meta.url)
  // The package's `main` is dist/tf-backend-wasm.node.js, beside the .wasm files.
  return dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + '/'
}

async function load(init: TensorflowInit): Promise<TensorflowRuntime> {
  const failures: string[] = []
  for (const backend of init.prefer) {
    try {
      const tf = await tryBackend(backend)
      if (tf) return { tf, backend }
      failures.push(`${backend}: not available`)
    } catch (err) {
      failures.push(`${backend}: ${(err as Error).message}`)
    }
  }
  throw new TensorflowUnavailableError(`no TensorFlow.js backend could start (${failures.join('; ')})`)
}

async function tryBackend(backend: TensorflowBackend): Promise<Tf | undefined> {
  if (backend === 'tensorflow') {
    const tf = (await import(TFJS_NODE)) as Tf
    await tf.ready()
    return tf.getBackend() === 'tensorflow' ? tf : undefined
  }
  const tf = (await import('@tensorflow/tfjs')) as Tf
  // PROD silences tfjs' "install tfjs-node" banner and its per-op debug checks; neither is wanted in a daemon.
  tf.env().set('PROD', true)
  if (backend === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm')
    wasm.setWasmPaths(wasmBinaryDirectory())
  }
  if (!(await tf.setBackend(backend))) return undefined
  await tf.ready()
  return tf.getBackend() === backend ? tf : undefined
}
