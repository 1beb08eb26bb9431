import { InvalidEncodingError, UnrepresentableValueError } from './codec-errors.ts'

export const INT8_LEVELS = 127

export const ROUNDING_MODES = ['stochastic', 'nearest'] as const
export type RoundingMode = (typeof ROUNDING_MODES)[number]

export interface Int8Options {
  /**
   * 'stochastic' (the default) rounds up with probability equal to the fractional part, so the error is zero in
   * expectation and averages out over the senders of a round (QSGD, Alistarh et al. 2017). 'nearest' is
   * deterministic but biased: every coordinate under half a step is zeroed on every node, so small coordinates
   * would never be learned.
   */
  rounding?: RoundingMode
  /** uniform [0, 1) source for stochastic rounding; Math.random unless given (no secrecy is needed here) */
  random?: () => number
}

export interface Int8Tensor {
  data: Int8Array
  /** value = data * scale; maxAbs / 127 rounded to float32, 0 for an all-zero tensor */
  scale: number
}

/** Symmetric per-tensor int8 quantization: scale = maxAbs / 127, q in [-127, 127] (-128 unused, so it is symmetric). */
export function quantizeInt8(values: Float32Array, options: Int8Options = {}): Int8Tensor {
  const rounding = options.rounding ?? 'stochastic'
  if (!ROUNDING_MODES.includes(rounding)) throw new InvalidEncodingError(`unknown rounding mode ${rounding}`)
  const random = options.random ?? Math.random
  let maxAbs = 0
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    if (!Number.isFinite(v)) throw new UnrepresentableValueError(`value ${v} at ${i} is not finite`)
    if (Math.abs(v) > maxAbs) maxAbs = Math.abs(v)
  }
  const data = new Int8Array(values.length)
  const scale = Math.fround(maxAbs / INT8_LEVELS)
  if (scale === 0) return { data, scale: 0 }
  for (let i = 0; i < values.length; i++) {
    const x = values[i] / scale
    const q = rounding === 'nearest' ? Math.round(x) : Math.floor(x + random())
    data[i] = Math.max(-INT8_LEVELS, Math.min(INT8_LEVELS, q))
  }
  return { data, scale }
}

export function dequantizeInt8(data: Int8Array, scale: number): Float32Array {
  if (!(typeof scale === 'number' && Number.isFinite(scale) && scale >= 0)) {
    throw new InvalidEncodingError(`int8 scale must be a finite number >= 0, got ${scale}`)
  }
  const out = new Float32Array(data.length)
  for (let i = 0; i < data.length; i++) out[i] = data[i] * scale
  return out
}
