/** A tensor's length, an encoded buffer's size or a scales list does not match the declared shapes. */
export class ShapeMismatchError extends Error {
  override name = 'ShapeMismatchError'
}

/** A value the target encoding cannot carry: NaN, Infinity, or beyond float16's range. */
export class UnrepresentableValueError extends Error {
  override name = 'UnrepresentableValueError'
}

/** An unknown encoding name, rounding mode or a malformed encoded value (bad scale, bad shape). */
export class InvalidEncodingError extends Error {
  override name = 'InvalidEncodingError'
}
