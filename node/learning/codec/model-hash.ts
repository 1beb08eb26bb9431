import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { encodeCanonical } from '../../../protocol/envelope/cbor.ts'
import { InvalidEncodingError, UnrepresentableValueError } from './codec-errors.ts'

const DOMAIN = new TextEncoder().encode('shieldwall/model-hash/1\n')

function u32le(n: number): Uint8Array {
  const out = new Uint8Array(4)
  new DataView(out.buffer).setUint32(0, n, true)
  return out
}

/**
 * The model's identity: SHA-256, hex, over
 *   "shieldwall/model-hash/1\n" || u32le(len(meta)) || meta || u32le(count) || float32le(parameter)...
 * where meta is the canonical CBOR of { architecture, featureSchema } (sorted keys, shortest numbers) and the
 * parameters are all tensors concatenated in the model's fixed order, -0 written as +0. So a flat vector and the same
 * values split into tensors hash alike, and two nodes holding the same numbers for the same architecture and
 * feature schema agree on the id whatever their platform. A model with a non-finite parameter has no id.
 */
export function modelHash(
  weights: Float32Array | readonly Float32Array[],
  architecture: unknown,
  featureSchema: string,
): string {
  if (typeof featureSchema !== 'string' || featureSchema.length === 0) {
    throw new InvalidEncodingError('feature schema must be a non-empty string')
  }
  let meta: Uint8Array
  try {
    meta = encodeCanonical({ architecture, featureSchema })
  } catch (err) {
    throw new InvalidEncodingError(`architecture is not plain data: ${(err as Error).message}`)
  }
  const tensors = weights instanceof Float32Array ? [weights] : weights
  const count = tensors.reduce((n, t) => n + t.length, 0)
  const hash = sha256.create().update(DOMAIN).update(u32le(meta.length)).update(meta).update(u32le(count))
  for (const tensor of tensors) {
    if (!(tensor instanceof Float32Array)) throw new InvalidEncodingError('weights must be Float32Arrays')
    const bytes = new Uint8Array(tensor.length * 4)
    const view = new DataView(bytes.buffer)
    for (let i = 0; i < tensor.length; i++) {
      const v = tensor[i]
      if (!Number.isFinite(v)) throw new UnrepresentableValueError(`parameter ${i} is ${v}`)
      view.setFloat32(i * 4, v === 0 ? 0 : v, true)
    }
    hash.update(bytes)
  }
  return bytesToHex(hash.digest())
}
