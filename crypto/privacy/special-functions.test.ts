import { describe, expect, it } from 'vitest'
import {
  erf,
  erfc,
  gammaSign,
  logAbsBinomial,
  logAbsGamma,
  logAdd,
  logErfc,
  logGamma,
  logSub,
  sinPi,
} from './special-functions.ts'

// Reference values below were computed with mpmath at 40 significant digits and rounded to double.

function expectRelClose(actual: number, expected: number, rel: number, abs = 0): void {
  const err = Math.abs(actual - expected)
  expect(err, `${actual} vs ${expected}`).toBeLessThanOrEqual(Math.max(rel * Math.abs(expected), abs))
}

describe('erfc', () => {
  const values: [number, number][] = [
    [0, 1.0],
    [1e-10, 0.999999999887162],
    [0.25, 0.7236736098317631],
    [0.46875, 0.507386526782062],
    [0.5, 0.4795001221869535],
    [1, 0.15729920705028513],
    [2, 0.004677734981047266],
    [3, 2.209049699858544e-5],
    [4, 1.541725790028002e-8],
    [4.5, 1.9661604415428876e-10],
    [6, 2.1519736712498913e-17],
    [10, 2.088487583762545e-45],
    [20, 5.395865611607901e-176],
    [26, 5.663192408856143e-296],
    [-0.25, 1.276326390168237],
    [-1, 1.8427007929497148],
    [-3, 1.9999779095030015],
  ]
  it.each(values)(
    "erfc(%d) matches to ~1e-15 relative, across all three of Cody's intervals",
    (x, expected) => {
      expectRelClose(erfc(x), expected, 2e-15)
    },
  )

  it('has the right limits and special values', () => {
    expect(erfc(Infinity)).toBe(0)
    expect(erfc(-Infinity)).toBe(2)
    expect(erfc(40)).toBe(0) // true value ~1e-697 is below the smallest double
    expect(erfc(NaN)).toBeNaN()
  })

  it('erf is odd and agrees with 1 - erfc', () => {
    const values: [number, number][] = [
      [1e-10, 1.1283791670955126e-10],
      [0.3, 0.3286267594591274],
      [1, 0.8427007929497149],
      [2.5, 0.999593047982555],
      [-0.7, -0.6778011938374184],
    ]
    for (const [x, expected] of values) expectRelClose(erf(x), expected, 2e-15)
    for (const x of [0.1, 0.9, 3.7]) {
      expect(erf(-x)).toBe(-erf(x))
      expectRelClose(erf(x), 1 - erfc(x), 1e-15, 1e-16)
    }
  })
})

describe('logErfc', () => {
  const values: [number, number][] = [
    [-5, 0.6931471805591766],
    [-1, 0.6112323176780705],
    [-0.3, 0.28414589714140825],
    [0, 0.0],
    [0.3, -0.39843005144008525],
    [1, -1.8496055099332482],
    [5, -27.200889545537436],
    [10, -102.87988902484489],
    // erfc itself underflows from here on; the log must not.
    [27, -732.8688865078974],
    [30, -903.9741171106439],
    [100, -10005.177585122665],
    [1e4, -100000009.78270532],
    [1e8, -1.0000000000000018e16],
  ]
  it.each(values)('logErfc(%d) matches to ~1e-15 relative', (x, expected) => {
    expectRelClose(logErfc(x), expected, 2e-15, 1e-16)
  })

  it('is -Infinity at +Infinity and log 2 at -Infinity', () => {
    expect(logErfc(Infinity)).toBe(-Infinity)
    expect(logErfc(-Infinity)).toBe(Math.LN2)
    expect(logErfc(NaN)).toBeNaN()
  })

  it('agrees with log(erfc) where erfc is representable', () => {
    for (const x of [-2, -0.46875, 0.46875, 0.47, 3.99, 4.01, 15]) {
      expectRelClose(logErfc(x), Math.log(erfc(x)), 1e-14, 1e-16)
    }
  })
})

describe('logGamma / logAbsGamma', () => {
  const values: [number, number][] = [
    [1e-8, 18.42068073818021],
    [0.1, 2.252712651734206],
    [0.5, 0.5723649429247001],
    [1, 0.0],
    [1.5, -0.12078223763524522],
    [2, 0.0],
    [2.5, 0.2846828704729192],
    [3.3, 0.9870985778947344],
    [7, 6.579251212010101],
    [10, 12.801827480081469],
    [14.99, 25.164481163825506],
    [15, 25.19122118273868],
    [20.5, 40.8315009745308],
    [100, 359.1342053695754],
    [1000, 5905.220423209181],
    [1e6, 12815504.569147611],
    // reflection: log |Gamma(x)| for negative non-integers
    [-0.5, 1.2655121234846454],
    [-1.1, 2.273651152924463],
    [-2.5, -0.056243716497674054],
    [-7.3, -7.779101629826852],
    [-20.2, -41.26457001936857],
  ]
  it.each(values)('logAbsGamma(%d) matches to 1e-14 relative or 2e-15 absolute', (x, expected) => {
    expectRelClose(logAbsGamma(x), expected, 1e-14, 2e-15)
  })

  it('gives log(n-1)! exactly enough at the integers', () => {
    let logFactorial = 0
    for (let n = 1; n <= 60; n++) {
      expectRelClose(logGamma(n), logFactorial, 1e-14, 2e-15)
      logFactorial += Math.log(n)
    }
  })

  it('is +Infinity at the poles and follows the sign of Gamma', () => {
    for (const x of [0, -1, -2, -30]) {
      expect(logAbsGamma(x)).toBe(Infinity)
      expect(gammaSign(x)).toBe(0)
    }
    expect(gammaSign(3.2)).toBe(1)
    expect(gammaSign(-0.5)).toBe(-1) // Gamma(-0.5) = -2 sqrt(pi)
    expect(gammaSign(-1.5)).toBe(1) // Gamma(-1.5) = 4 sqrt(pi) / 3
    expect(gammaSign(-2.5)).toBe(-1)
  })

  it('sinPi is exact at the integers and half-integers', () => {
    expect(Math.abs(sinPi(3))).toBe(0)
    expect(Math.abs(sinPi(-4))).toBe(0)
    expect(sinPi(0.5)).toBe(1)
    expect(sinPi(1.5)).toBe(-1)
    expect(sinPi(-2.5)).toBe(-1)
    expectRelClose(sinPi(1e6 + 0.25), Math.SQRT1_2, 1e-15)
  })
})

describe('logAbsBinomial', () => {
  const values: [number, number, number][] = [
    [10, 3, 120.0],
    [63, 31, 9.163120704712952e17],
    [1.1, 0, 1.0],
    [1.1, 1, 1.1],
    [1.1, 2, 0.055000000000000056],
    [1.1, 3, -0.016500000000000015],
    [1.1, 4, 0.007837500000000006],
    [2.5, 3, 0.3125],
    [10.9, 12, -0.006110795133834712],
    [10.9, 13, 0.0005170672805552447],
    [1.5, 100, 4.3120535935456284e-6],
  ]
  it.each(values)('C(%d, %d) has the right magnitude and sign', (n, k, expected) => {
    const { logAbs, sign } = logAbsBinomial(n, k)
    expect(sign).toBe(Math.sign(expected))
    expectRelClose(logAbs, Math.log(Math.abs(expected)), 1e-13, 4e-15)
  })

  it('is zero for integer n < k', () => {
    expect(logAbsBinomial(5, 6)).toEqual({ logAbs: -Infinity, sign: 0 })
  })
})

describe('log-space arithmetic', () => {
  it('adds and subtracts', () => {
    expectRelClose(logAdd(Math.log(2), Math.log(3)), Math.log(5), 1e-15)
    expectRelClose(logSub(Math.log(5), Math.log(3)), Math.log(2), 1e-15)
    expect(logAdd(-Infinity, 1.5)).toBe(1.5)
    expect(logAdd(-Infinity, -Infinity)).toBe(-Infinity)
    expect(logSub(1.5, -Infinity)).toBe(1.5)
    expect(logSub(1.5, 1.5)).toBe(-Infinity)
  })

  it('does not overflow for far-apart or huge operands', () => {
    expect(logAdd(1000, 1)).toBe(1000)
    expect(logAdd(1e5, 1e5)).toBeCloseTo(1e5 + Math.LN2, 9)
    expect(logSub(2000, 1)).toBe(2000)
  })

  it('refuses a negative difference with a named error', () => {
    expect(() => logSub(1, 2)).toThrow(expect.objectContaining({ name: 'NumericalDomainError' }))
  })
})
