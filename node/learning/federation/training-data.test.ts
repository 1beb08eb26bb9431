import { describe, expect, it } from 'vitest'
import { TrainingData, isValidationKey } from './training-data.ts'

const vec = (v: number) => [v, v, v]

describe('TrainingData', () => {
  it('keeps an address on one side of the split', () => {
    const data = new TrainingData({ dims: 3, validationFraction: 0.5 })
    const ips = Array.from({ length: 200 }, (_, i) => `10.0.${i >> 8}.${i & 255}`)
    data.seed(ips.flatMap((ip) => [0, 1, 2].map(() => ({ features: vec(1), label: 1, key: ip }))))
    const c = data.counts()
    expect(c.training.positive + c.validation.positive).toBe(600)
    expect(c.validation.positive % 3).toBe(0)
    const held = ips.filter((ip) => isValidationKey(ip, 0.5)).length
    expect(c.validation.positive).toBe(held * 3)
    expect(held).toBeGreaterThan(60)
    expect(held).toBeLessThan(140)
  })

  it('labels windows by confident rule decisions, waits for the rest, and takes admin feedback', () => {
    const data = new TrainingData({
      dims: 3,
      benignSampleRate: 1,
      labelDelayMs: 1000,
      validationFraction: 0.01,
    })
    data.observeWindow({ ip: '1.1.1.1', end: 0, features: vec(5) }, 0)
    data.observeWindow({ ip: '2.2.2.2', end: 0, features: vec(0) }, 0)
    data.observeWindow({ ip: '3.3.3.3', end: 0, features: vec(5) }, 0)
    // the model's own decisions never label
    expect(data.observeDecision({ ip: '3.3.3.3', confidence: 1, detectors: ['model'] }, 10)).toBe(false)
    expect(data.observeDecision({ ip: '1.1.1.1', confidence: 0.95, detectors: ['scenario'] }, 10)).toBe(true)
    expect(data.counts().training.positive).toBe(1)
    data.flush(500)
    expect(data.counts().pending).toBe(2)
    data.flush(1001)
    expect(data.counts()).toMatchObject({ pending: 0, training: { positive: 1, negative: 2 } })
    // later windows of a marked address are attacks at once
    data.observeWindow({ ip: '1.1.1.1', end: 60_000, features: vec(6) }, 60_000)
    expect(data.counts().training.positive).toBe(2)
    // an admin says the alert about 1.1.1.1 was false: its examples move to benign
    expect(data.feedback('1.1.1.1', 'false', 61_000)).toBe(2)
    expect(data.counts().training).toEqual({ positive: 0, negative: 4 })
    const { x, y } = data.training()
    expect(x.length).toBe(12)
    expect(Array.from(y)).toEqual([0, 0, 0, 0])
  })

  it('is bounded per class and refuses bad vectors', () => {
    const data = new TrainingData({ dims: 3, perClass: 10, validationFraction: 0.01 })
    data.seed(Array.from({ length: 1000 }, (_, i) => ({ features: vec(i), label: 0, key: `k${i}` })))
    expect(data.counts().training.negative).toBe(10)
    expect(() => data.seed([{ features: [1, 2], label: 1 }])).toThrow(
      expect.objectContaining({ name: 'DimensionMismatchError' }),
    )
    expect(() => data.seed([{ features: [1, NaN, 2], label: 1 }])).toThrow(
      expect.objectContaining({ name: 'InvalidTrainingDataError' }),
    )
  })
})
