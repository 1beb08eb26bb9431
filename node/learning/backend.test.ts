import { describe, expect, it } from 'vitest'
import { activeTensorflowBackend, initTensorflow } from './backend.ts'

describe('initTensorflow', () => {
  it('starts one backend, reports it, and returns the same runtime on every call', async () => {
    const a = await initTensorflow()
    const b = await initTensorflow({ prefer: ['cpu'] })
    expect(b).toBe(a)
    expect(['tensorflow', 'wasm', 'cpu']).toContain(a.backend)
    expect(a.tf.getBackend()).toBe(a.backend)
    expect(activeTensorflowBackend()).toBe(a.backend)
    const sum = a.tf.tidy(() => a.tf.add(a.tf.tensor1d([1, 2]), 1).dataSync())
    expect(Array.from(sum)).toEqual([2, 3])
  })
})
