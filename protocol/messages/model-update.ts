import { z } from 'zod'

/**
 * Model update v1: one node's DP-noised, quantized parameter delta for a federated round, relative to the global
 * model `baseHash`. The sender reports its cumulative privacy spend so peers and operators can see it, and only a
 * power-of-two bucket of its example count: the exact count would itself leak something about the node's traffic.
 */
export const MODEL_UPDATE_TYPE = 'model-update'
export const MODEL_UPDATE_VERSION = 1

/** Wire encodings; lossless f32 is for local storage only. */
export const MODEL_UPDATE_ENCODINGS = ['f16', 'i8'] as const
export type ModelUpdateEncoding = (typeof MODEL_UPDATE_ENCODINGS)[number]
const BYTES_PER_VALUE: Record<ModelUpdateEncoding, number> = { f16: 2, i8: 1 }

/** Far above the intrusion-detection MLPs (~10k parameters) and still under 1 MiB of f16 per gossip message. */
export const MAX_UPDATE_PARAMS = 1 << 18
export const MAX_UPDATE_TENSORS = 64
export const MAX_TENSOR_RANK = 4
export const MAX_UPDATE_DATA_BYTES = MAX_UPDATE_PARAMS * 2
/** Envelope size limit for the models topic: the largest data plus generous room for the other fields. */
export const MAX_MODEL_MESSAGE_BYTES = MAX_UPDATE_DATA_BYTES + 16 * 1024
export const MAX_EXAMPLE_BUCKET = 2 ** 30
/** A ledger far past this has no meaningful privacy left; the cap keeps nonsense out of peers' dashboards. */
export const MAX_REPORTED_EPSILON = 1e6

export const HASH_PATTERN = /^[0-9a-f]{64}$/
/** Feature schema ids: `nsl-kdd/1`, `shieldwall-flow/2` */
export const SCHEMA_PATTERN = /^[a-z0-9][a-z0-9._:/-]{0,63}$/

/** The problems a model update's body can have beyond plain field types, as the first word of the issue message. */
export const MODEL_UPDATE_PROBLEMS = [
  'too_many_params',
  'shape_mismatch',
  'scales_mismatch',
  'not_power_of_two',
] as const
export type ModelUpdateProblem = (typeof MODEL_UPDATE_PROBLEMS)[number]

/** The largest power of two <= count (capped), so a node never claims more examples than it had; 0 for none. */
export function exampleBucket(count: number): number {
  if (!(Number.isFinite(count) && count >= 1)) return 0
  return Math.min(MAX_EXAMPLE_BUCKET, 2 ** Math.floor(Math.log2(count)))
}

const isPowerOfTwo = (n: number) => Number.isSafeInteger(n) && n >= 1 && (n & (n - 1)) === 0

const Shape = z.array(z.number().int().min(1).max(MAX_UPDATE_PARAMS)).max(MAX_TENSOR_RANK)

export const ModelUpdateBodyV1 = z
  .object({
    round: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    baseHash: z.string().regex(HASH_PATTERN, 'must be 64 lowercase hex characters'),
    schema: z.string().regex(SCHEMA_PATTERN, 'must match ' + SCHEMA_PATTERN.source),
    encoding: z.enum(MODEL_UPDATE_ENCODINGS),
    shapes: z.array(Shape).min(1).max(MAX_UPDATE_TENSORS),
    data: z
      .custom<Uint8Array>((v) => v instanceof Uint8Array, 'must be bytes')
      .refine((d) => d.length <= MAX_UPDATE_DATA_BYTES, {
        message: `too_many_params: more than ${MAX_UPDATE_DATA_BYTES} bytes`,
      }),
    scales: z.array(z.number().min(0).max(Number.MAX_VALUE)).max(MAX_UPDATE_TENSORS).optional(),
    exampleBucket: z
      .number()
      .int()
      .min(1)
      .max(MAX_EXAMPLE_BUCKET)
      .refine(isPowerOfTwo, { message: 'not_power_of_two: must be a power of two' }),
    epsilonSpent: z.number().min(0).max(MAX_REPORTED_EPSILON),
    delta: z.number().gt(0).lt(1),
  })
  .strict()
  .superRefine((body, ctx) => {
    const params = body.shapes.reduce((sum, shape) => sum + shape.reduce((a, b) => a * b, 1), 0)
    if (params > MAX_UPDATE_PARAMS) {
      ctx.addIssue({
        code: 'custom',
        path: ['shapes'],
        message: `too_many_params: ${params} parameters > ${MAX_UPDATE_PARAMS}`,
      })
      return
    }
    const expected = params * BYTES_PER_VALUE[body.encoding]
    if (body.data.length !== expected) {
      ctx.addIssue({
        code: 'custom',
        path: ['data'],
        message: `shape_mismatch: ${body.data.length} bytes of ${body.encoding}, the shapes need ${expected}`,
      })
    }
    if (body.encoding === 'i8' && body.scales?.length !== body.shapes.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['scales'],
        message: `scales_mismatch: i8 needs one scale per tensor (${body.shapes.length})`,
      })
    }
    if (body.encoding !== 'i8' && body.scales !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['scales'],
        message: `scales_mismatch: ${body.encoding} has no scales`,
      })
    }
  })

export type ModelUpdateBody = z.infer<typeof ModelUpdateBodyV1>
