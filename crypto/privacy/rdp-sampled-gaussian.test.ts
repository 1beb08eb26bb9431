import { describe, expect, it } from 'vitest'
import { rdpSampledGaussian } from './rdp-sampled-gaussian.ts'

const MNIST_Q = 256 / 60000

function expectRelClose(actual: number, expected: number, rel: number): void {
  expect(Math.abs(actual - expected), `${actual} vs ${expected}`).toBeLessThanOrEqual(
    rel * Math.abs(expected),
  )
}

describe('rdpSampledGaussian', () => {
  // Per-step RDP from Opacus' _compute_rdp (the rdp.py algorithm run with numpy/scipy), at integer and fractional
  // orders, including the large-order blow-up at sigma = 1.1 and a case (q = 0.5, sigma = 0.3) that needs
  // thousands of terms of the fractional series.
  const opacusValues: [number, number, number, number][] = [
    [MNIST_Q, 1.1, 1.5, 1.7479784542968713e-5],
    [MNIST_Q, 1.1, 2, 2.3395776010005287e-5],
    [MNIST_Q, 1.1, 8.1, 9.965972761984104e-5],
    [MNIST_Q, 1.1, 32, 7.59018834621011],
    [MNIST_Q, 1.1, 63, 20.488120577148464],
    [0.5, 0.3, 1.1, 2.9117818969552656],
    [0.5, 0.3, 1.3, 4.610993860842164],
    [0.5, 0.3, 2, 9.72486158500169],
    [0.5, 0.3, 2.5, 12.73364368500939],
    [0.01, 1.0, 1.25, 0.00010539800476989044],
    [0.01, 1.0, 3, 0.00026463757458466063],
    [0.01, 1.0, 10.9, 0.3876114113003885],
  ]
  it.each(opacusValues)('q=%d sigma=%d order=%d matches Opacus to 1e-8', (q, sigma, order, expected) => {
    const [rdp] = rdpSampledGaussian(q, sigma, [order])
    expectRelClose(rdp, expected, 1e-8)
  })

  it('is 0 without sampling, even without noise', () => {
    expect(rdpSampledGaussian(0, 1, [1.5, 2, 32])).toEqual([0, 0, 0])
    expect(rdpSampledGaussian(0, 0, [1.5, 2])).toEqual([0, 0])
  })

  it('is Infinity without noise', () => {
    expect(rdpSampledGaussian(0.01, 0, [1.5, 2, 32])).toEqual([Infinity, Infinity, Infinity])
  })

  it('is the plain Gaussian mechanism alpha / (2 sigma^2) at q = 1', () => {
    expect(rdpSampledGaussian(1, 2, [1.5, 2, 10.9, 63])).toEqual([1.5 / 8, 2 / 8, 10.9 / 8, 63 / 8])
  })

  it('approaches the unsampled Gaussian as q -> 1 through both series', () => {
    const orders = [2, 2.5, 7, 7.5]
    const near = rdpSampledGaussian(1 - 1e-9, 2, orders)
    orders.forEach((alpha, i) => expectRelClose(near[i], alpha / 8, 1e-6))
  })

  it('stays >= 0 when huge noise makes log A_alpha round to just below 0', () => {
    const orders = [1.5, 2, 3, 10.9, 63]
    for (const sigma of [1e3, 1e5, 5e5]) {
      for (const r of rdpSampledGaussian(0.01, sigma, orders)) expect(r).toBeGreaterThanOrEqual(0)
    }
  })

  it('never exceeds the unsampled Gaussian bound', () => {
    const orders = [1.1, 1.7, 2, 3.3, 12, 40]
    for (const q of [1e-4, 0.01, 0.3, 0.9]) {
      const rdp = rdpSampledGaussian(q, 0.9, orders)
      orders.forEach((alpha, i) => expect(rdp[i]).toBeLessThanOrEqual((alpha / (2 * 0.81)) * (1 + 1e-12)))
    }
  })

  it('decreases as the noise grows and increases with the sampling rate and the order', () => {
    const orders = [1.2, 2, 2.7, 8, 8.5, 20, 63]
    const sigmas = [0.5, 0.7, 1.1, 2, 5]
    for (let s = 1; s < sigmas.length; s++) {
      const less = rdpSampledGaussian(0.01, sigmas[s], orders)
      const more = rdpSampledGaussian(0.01, sigmas[s - 1], orders)
      orders.forEach((_, i) => expect(less[i]).toBeLessThan(more[i]))
    }
    const small = rdpSampledGaussian(0.001, 1, orders)
    const large = rdpSampledGaussian(0.01, 1, orders)
    orders.forEach((_, i) => expect(small[i]).toBeLessThan(large[i]))
    for (let i = 1; i < orders.length; i++) expect(large[i]).toBeGreaterThan(large[i - 1])
  })

  it('rejects invalid parameters with InvalidPrivacyParameterError', () => {
    const bad: [number, number, number[]][] = [
      [-0.1, 1, [2]],
      [1.5, 1, [2]],
      [NaN, 1, [2]],
      [0.01, -1, [2]],
      [0.01, Infinity, [2]],
      [0.01, NaN, [2]],
      [0.01, 1, []],
      [0.01, 1, [1]],
      [0.01, 1, [0.5]],
      [0.01, 1, [2, NaN]],
      [0.01, 1, [Infinity]],
    ]
    for (const [q, sigma, orders] of bad) {
      expect(() => rdpSampledGaussian(q, sigma, orders), `${q} ${sigma} ${orders}`).toThrow(
        expect.objectContaining({ name: 'InvalidPrivacyParameterError' }),
      )
    }
  })
})
