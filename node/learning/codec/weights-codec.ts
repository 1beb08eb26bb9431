import { InvalidEncodingError, ShapeMismatchError } from './codec-errors.ts'
import { decodeFloat16, encodeFloat16 } from './float16.ts'
import { dequantizeInt8, quantizeInt8, type Int8Options } from './int8.ts'

/** 'f32' is lossless, for local storage; the wire carries 'f16' or 'i8'. */
export const WEIGHT_ENCODINGS = ['f32', 'f16', 'i8'] as const
export type WeightEncoding = (typeof WEIGHT_ENCODINGS)[number]

export const BYTES_PER_VALUE: Record<WeightEncoding, number> = { f32: 4, f16: 2, i8: 1 }

/**
 * A list of tensors (the model's fixed order) as one byte buffer: the tensors' values concatenated, row-major,
 * little-endian whatever the host. 'i8' carries one scale per tensor.
 */
export interface EncodedWeights {
  encoding: WeightEncoding
  shapes: number[][]
  data: Uint8Array
  scales?: number[]
}

export function shapeSize(shape: readonly number[]): number {
  if (!Array.isArray(shape)) throw new InvalidEncodingError('a shape must be an array of dimensions')
  let size = 1
  for (const d of shape) {
    if (!(Number.isSafeInteger(d) && d >= 1))
      throw new InvalidEncodingError(`bad dimension ${d} in [${shape}]`)
    size *= d
  }
  return size
}

export function totalSize(shapes: readonly (readonly number[])[]): number {
  return shapes.reduce((sum, shape) => sum + shapeSize(shape), 0)
}

export function flattenTensors(tensors: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(tensors.reduce((n, t) => n + t.length, 0))
  let offset = 0
  for (const t of tensors) {
    out.set(t, offset)
    offset += t.length
  }
  return out
}

/** Splits a flat parameter vector back into tensors (copies, so they do not alias the input). */
export function splitTensors(flat: Float32Array, shapes: readonly (readonly number[])[]): Float32Array[] {
  const sizes = shapes.map(shapeSize)
  const total = sizes.reduce((a, b) => a + b, 0)
  if (flat.length !== total) {
    throw new ShapeMismatchError(`${flat.length} values but the shapes hold ${total}`)
  }
  let offset = 0
  return sizes.map((size) => flat.slice(offset, (offset += size)))
}

function assertTensorsMatch(tensors: readonly Float32Array[], shapes: readonly (readonly number[])[]): void {
  if (tensors.length !== shapes.length) {
    throw new ShapeMismatchError(`${tensors.length} tensors but ${shapes.length} shapes`)
  }
  tensors.forEach((t, i) => {
    if (!(t instanceof Float32Array)) throw new ShapeMismatchError(`tensor ${i} is not a Float32Array`)
    const size = shapeSize(shapes[i])
    if (t.length !== size) {
      throw new ShapeMismatchError(`tensor ${i} has ${t.length} values, shape [${shapes[i]}] needs ${size}`)
    }
  })
}

export function encodeWeights(
  tensors: readonly Float32Array[],
  shapes: readonly (readonly number[])[],
  encoding: WeightEncoding,
  options: Int8Options = {},
): EncodedWeights {
  if (!WEIGHT_ENCODINGS.includes(encoding)) throw new InvalidEncodingError(`unknown encoding ${encoding}`)
  assertTensorsMatch(tensors, shapes)
  const flat = flattenTensors(tensors)
  const data = new Uint8Array(flat.length * BYTES_PER_VALUE[encoding])
  const view = new DataView(data.buffer)
  const copyOfShapes = shapes.map((s) => [...s])
  if (encoding === 'f32') {
    for (let i = 0; i < flat.length; i++) view.setFloat32(i * 4, flat[i], true)
    return { encoding, shapes: copyOfShapes, data }
  }
  if (encoding === 'f16') {
    const bits = encodeFloat16(flat)
    for (let i = 0; i < bits.length; i++) view.setUint16(i * 2, bits[i], true)
    return { encoding, shapes: copyOfShapes, data }
  }
  const scales: number[] = []
  let offset = 0
  for (const t of tensors) {
    const q = quantizeInt8(t, options)
    data.set(new Uint8Array(q.data.buffer, q.data.byteOffset, q.data.length), offset)
    offset += t.length
    scales.push(q.scale)
  }
  return { encoding, shapes: copyOfShapes, data, scales }
}

export function decodeWeights(encoded: EncodedWeights): Float32Array[] {
  const { encoding, shapes, data, scales } = encoded
  if (!WEIGHT_ENCODINGS.includes(encoding)) throw new InvalidEncodingError(`unknown encoding ${encoding}`)
  if (!(data instanceof Uint8Array)) throw new InvalidEncodingError('data must be bytes')
  if (!Array.isArray(shapes)) throw new InvalidEncodingError('shapes must be an array')
  const total = totalSize(shapes)
  const expected = total * BYTES_PER_VALUE[encoding]
  if (data.length !== expected) {
    throw new ShapeMismatchError(`${data.length} bytes of ${encoding}, the shapes need ${expected}`)
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  if (encoding === 'f32') {
    return splitTensors(
      Float32Array.from({ length: total }, (_, i) => view.getFloat32(i * 4, true)),
      shapes,
    )
  }
  if (encoding === 'f16') {
    const bits = Uint16Array.from({ length: total }, (_, i) => view.getUint16(i * 2, true))
    return splitTensors(decodeFloat16(bits), shapes)
  }
  if (!Array.isArray(scales) || scales.length !== shapes.length) {
    throw new ShapeMismatchError(
      `i8 needs one scale per tensor: ${shapes.length} tensors, ${scales?.length} scales`,
    )
  }
  const q = new Int8Array(data.buffer, data.byteOffset, data.byteLength)
  let offset = 0
  return shapes.map((shape, i) => {
    const size = shapeSize(shape)
    const tensor = dequantizeInt8(q.subarray(offset, offset + size), scales[i])
    offset += size
    return tensor
  })
}
