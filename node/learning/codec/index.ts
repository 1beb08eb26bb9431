export { InvalidEncodingError, ShapeMismatchError, UnrepresentableValueError } from './codec-errors.ts'
export { FLOAT16_MAX, decodeFloat16, encodeFloat16, fromFloat16Bits, toFloat16Bits } from './float16.ts'
export { INT8_LEVELS, ROUNDING_MODES, dequantizeInt8, quantizeInt8 } from './int8.ts'
export type { Int8Options, Int8Tensor, RoundingMode } from './int8.ts'
export { modelHash } from './model-hash.ts'
export {
  BYTES_PER_VALUE,
  WEIGHT_ENCODINGS,
  decodeWeights,
  encodeWeights,
  flattenTensors,
  shapeSize,
  splitTensors,
  totalSize,
} from './weights-codec.ts'
export type { EncodedWeights, WeightEncoding } from './weights-codec.ts'
