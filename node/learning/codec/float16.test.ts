import { describe, expect, it } from 'vitest'
import { seededRandom } from '../aggregation/test-helpers.ts'
import { FLOAT16_MAX, decodeFloat16, encodeFloat16, fromFloat16Bits, toFloat16Bits } from './float16.ts'

type Float16ArrayConstructor = new (values: number[]) => ArrayBufferView
const NativeFloat16 = (globalThis as { Float16Array?: Float16ArrayConstructor }).Float16Array

function nativeBits(value: number): number {
  return new Uint16Array(new NativeFloat16!([value]).buffer)[0]
}

describe('float16 conversion', () => {
  it('matches known IEEE 754 binary16 encodings', () => {
    const vectors: [number, number][] = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [-2, 0xc000],
      [0.5, 0x3800],
      [1 / 3, 0x3555],
      [65504, 0x7bff],
      [2 ** -14, 0x0400], // smallest normal
      [2 ** -24, 0x0001], // smallest subnormal
      [2 ** -25, 0x0000], // half the smallest subnormal: tie to even (0)
      [1.5 * 2 ** -24, 0x0002], // tie to even (2)
      [1 + 2 ** -11, 0x3c00], // tie between 1 and 1 + 2^-10: even mantissa wins
      [1 + 3 * 2 ** -11, 0x3c02],
      [65519, 0x7bff],
      [65520, 0x7c00], // rounds to Infinity
      [Infinity, 0x7c00],
      [-Infinity, 0xfc00],
      [NaN, 0x7e00],
    ]
    for (const [value, bits] of vectors) expect(toFloat16Bits(value), String(value)).toBe(bits)
  })

  it('decodes every one of the 65536 bit patterns and re-encodes it to the same bits', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const value = fromFloat16Bits(bits)
      const isNaN = (bits & 0x7c00) === 0x7c00 && (bits & 0x3ff) !== 0
      if (isNaN) expect(Number.isNaN(value)).toBe(true)
      else expect(toFloat16Bits(value)).toBe(bits)
    }
  })

  it.skipIf(NativeFloat16 === undefined)('agrees bit for bit with Float16Array on float32 values', () => {
    const random = seededRandom(16)
    const f32 = new Float32Array(1)
    const u32 = new Uint32Array(f32.buffer)
    for (let i = 0; i < 200_000; i++) {
      u32[0] = Math.floor(random() * 2 ** 32) // every float32 bit pattern is equally likely
      const v = f32[0]
      const expected = nativeBits(v)
      if (Number.isNaN(v)) continue // NaN payloads differ by engine; ours is always the quiet NaN
      if (toFloat16Bits(v) !== expected) expect({ v, bits: toFloat16Bits(v) }).toEqual({ v, bits: expected })
    }
    for (let i = 0; i < 100_000; i++) {
      const v = Math.fround((random() - 0.5) * 2 ** (Math.floor(random() * 40) - 28))
      expect(toFloat16Bits(v)).toBe(nativeBits(v))
    }
  })

  it('round-trips within half an ulp: relative 2^-11 for normals, absolute 2^-25 below', () => {
    const random = seededRandom(3)
    const values = Float32Array.from({ length: 10_000 }, () => (random() - 0.5) * 2 ** (random() * 30 - 20))
    const back = decodeFloat16(encodeFloat16(values))
    values.forEach((v, i) => {
      const bound = Math.abs(v) >= 2 ** -14 ? Math.abs(v) * 2 ** -11 : 2 ** -25
      expect(Math.abs(back[i] - v)).toBeLessThanOrEqual(bound)
    })
  })

  it('refuses values float16 cannot carry', () => {
    const named = expect.objectContaining({ name: 'UnrepresentableValueError' })
    expect(() => encodeFloat16(Float32Array.from([1, 70000]))).toThrow(named)
    expect(() => encodeFloat16(Float32Array.from([NaN]))).toThrow(named)
    expect(() => encodeFloat16(Float32Array.from([-Infinity]))).toThrow(named)
    expect(Array.from(decodeFloat16(encodeFloat16(Float32Array.from([FLOAT16_MAX, -65519]))))).toEqual([
      65504, -65504,
    ])
  })
})
