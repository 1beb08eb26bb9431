import { describe, expect, it } from 'vitest'
import { epsilonFromRdp } from './rdp-to-dp.ts'

const DELTA = 1e-5

describe('epsilonFromRdp', () => {
  it('classic: eps = rdp - log(delta) / (alpha - 1), at the best order', () => {
    const orders = [2, 4, 8]
    const rdp = [0.5, 1, 3]
    const candidates = orders.map((a, i) => rdp[i] - Math.log(DELTA) / (a - 1))
    const { epsilon, order } = epsilonFromRdp(orders, rdp, DELTA, 'classic')
    expect(epsilon).toBe(Math.min(...candidates))
    expect(order).toBe(orders[candidates.indexOf(epsilon)])
  })

  it('balle2020: eps = rdp - (log delta + log alpha) / (alpha - 1) + log((alpha - 1) / alpha)', () => {
    const orders = [2, 4, 8]
    const rdp = [0.5, 1, 3]
    const candidates = orders.map(
      (a, i) => rdp[i] - (Math.log(DELTA) + Math.log(a)) / (a - 1) + Math.log((a - 1) / a),
    )
    const { epsilon, order } = epsilonFromRdp(orders, rdp, DELTA, 'balle2020')
    expect(epsilon).toBe(Math.min(...candidates))
    expect(order).toBe(orders[candidates.indexOf(epsilon)])
  })

  it('defaults to balle2020, which is never worse than classic', () => {
    const orders = [1.5, 2, 3, 5, 10, 32]
    for (const scale of [1e-4, 0.01, 0.3, 2]) {
      const rdp = orders.map((a) => scale * a)
      const tight = epsilonFromRdp(orders, rdp, DELTA)
      expect(tight).toEqual(epsilonFromRdp(orders, rdp, DELTA, 'balle2020'))
      expect(tight.epsilon).toBeLessThan(epsilonFromRdp(orders, rdp, DELTA, 'classic').epsilon)
    }
  })

  it('skips NaN orders, keeps the first of equal minima, and reports Infinity when nothing is finite', () => {
    expect(epsilonFromRdp([2, 3], [NaN, 0.1], DELTA, 'classic').order).toBe(3)
    expect(epsilonFromRdp([2, 3], [NaN, NaN], DELTA)).toEqual({ epsilon: Infinity, order: NaN })
    expect(epsilonFromRdp([2, 3], [Infinity, Infinity], DELTA)).toEqual({ epsilon: Infinity, order: 2 })
    const tie = epsilonFromRdp([2, 3], [0, -Math.log(DELTA) / 2], DELTA, 'classic')
    expect(tie.order).toBe(2)
  })

  it('does not clamp at zero, like Opacus (only reachable with an unusually large delta)', () => {
    const { epsilon } = epsilonFromRdp([63], [0], 0.5)
    expect(epsilon).toBeLessThan(0)
  })

  it('rejects invalid input with InvalidPrivacyParameterError', () => {
    const cases: [number[], number[], number, string?][] = [
      [[2], [0.1], 0],
      [[2], [0.1], 1],
      [[2], [0.1], -1e-5],
      [[2], [0.1], NaN],
      [[2, 3], [0.1], DELTA],
      [[], [], DELTA],
      [[1], [0.1], DELTA],
      [[0.9], [0.1], DELTA],
      [[2], [-0.1], DELTA],
      [[2], [0.1], DELTA, 'tight'],
    ]
    for (const [orders, rdp, delta, method] of cases) {
      expect(() => epsilonFromRdp(orders, rdp, delta, method as 'classic')).toThrow(
        expect.objectContaining({ name: 'InvalidPrivacyParameterError' }),
      )
    }
  })
})
