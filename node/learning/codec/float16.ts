/**
 * IEEE 754 binary16 conversion, written out rather than taken from Float16Array: Float16Array only arrived in
 * Node 24 and shieldwall still runs on 22. Tests compare it bit for bit with Float16Array where it exists.
 */
import { UnrepresentableValueError } from './codec-errors.ts'

/** Largest finite half: (2 - 2^-10) * 2^15. */
export const FLOAT16_MAX = 65504
/** Anything at or above this rounds to Infinity under round-to-nearest-even. */
const FLOAT16_OVERFLOW = 65520
const SUBNORMAL_STEP = 2 ** -24
const MIN_NORMAL = 2 ** -14

function roundHalfEven(x: number): number {
  const floor = Math.floor(x)
  const rest = x - floor
  if (rest > 0.5) return floor + 1
  if (rest < 0.5) return floor
  return floor % 2 === 0 ? floor : floor + 1
}

/**
 * The binary16 bits nearest to `value` (round to nearest, ties to even), as Float16Array stores it. NaN becomes the
 * quiet NaN 0x7e00. Exact for float32 inputs; a float64 input is rounded once, directly to half.
 */
export function toFloat16Bits(value: number): number {
  if (Number.isNaN(value)) return 0x7e00
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0
  const a = Math.abs(value)
  if (a >= FLOAT16_OVERFLOW) return sign | 0x7c00
  if (a < MIN_NORMAL) return sign | roundHalfEven(a / SUBNORMAL_STEP) // 1024 here is the smallest normal: right
  let exponent = Math.floor(Math.log2(a))
  // log2 can be off by one near powers of two; powers of two themselves are exact
  if (2 ** exponent > a) exponent--
  else if (2 ** (exponent + 1) <= a) exponent++
  let mantissa = roundHalfEven((a / 2 ** exponent - 1) * 1024)
  if (mantissa === 1024) {
    mantissa = 0
    exponent++
  }
  return sign | ((exponent + 15) << 10) | mantissa
}

export function fromFloat16Bits(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1
  const exponent = (bits >> 10) & 0x1f
  const mantissa = bits & 0x3ff
  if (exponent === 0) return sign * mantissa * SUBNORMAL_STEP
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15)
}

/** Half-precision bits of each value; refuses what float16 cannot carry instead of sending Infinity or NaN. */
export function encodeFloat16(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length)
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    if (!Number.isFinite(v) || Math.abs(v) >= FLOAT16_OVERFLOW) {
      throw new UnrepresentableValueError(`value ${v} at ${i} is outside float16's range (±${FLOAT16_MAX})`)
    }
    out[i] = toFloat16Bits(v)
  }
  return out
}

export function decodeFloat16(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length)
  for (let i = 0; i < bits.length; i++) out[i] = fromFloat16Bits(bits[i])
  return out
}
