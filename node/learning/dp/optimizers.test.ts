import { describe, expect, it } from 'vitest'
import { adam, sgd } from './optimizers.ts'

describe('optimizers', () => {
  it('sgd with momentum follows v <- mu v + g, w <- w - lr v', () => {
    const w = [Float32Array.of(1)]
    const opt = sgd({ learningRate: 0.1, momentum: 0.5 })
    opt.step(w, [Float32Array.of(2)]) // v = 2, w = 0.8
    opt.step(w, [Float32Array.of(2)]) // v = 3, w = 0.5
    expect(w[0][0]).toBeCloseTo(0.5, 6)
  })

  it("adam's first step moves every weight by the learning rate against the gradient's sign", () => {
    const w = [Float32Array.of(1, 1)]
    adam({ learningRate: 0.01 }).step(w, [Float32Array.of(3, -0.001)])
    expect(w[0][0]).toBeCloseTo(0.99, 5)
    expect(w[0][1]).toBeCloseTo(1.01, 4)
  })

  it('both minimise a quadratic', () => {
    for (const opt of [sgd({ learningRate: 0.05, momentum: 0.9 }), adam({ learningRate: 0.05 })]) {
      const w = [Float32Array.of(5, -3)]
      for (let i = 0; i < 500; i++) opt.step(w, [Float32Array.from(w[0], (v) => 2 * v)])
      expect(Math.abs(w[0][0]) + Math.abs(w[0][1])).toBeLessThan(0.05)
    }
  })

  it('a gradient of the wrong shape is a DimensionMismatchError', () => {
    expect(() => sgd({ learningRate: 1 }).step([new Float32Array(2)], [new Float32Array(3)])).toThrow(
      expect.objectContaining({ name: 'DimensionMismatchError' }),
    )
  })
})
