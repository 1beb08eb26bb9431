import { z } from 'zod'
import { HASH_PATTERN, SCHEMA_PATTERN } from './model-update.ts'

/**
 * Model announce v1: a node says which global model it adopted, what it came from and how it scored on the node's
 * own evaluation data. Peers use it to spot forks (same parent, different result) and to fetch a model they lack.
 * The initial model has no parent (null).
 */
export const MODEL_ANNOUNCE_TYPE = 'model-announce'
export const MODEL_ANNOUNCE_VERSION = 1

export const MAX_ANNOUNCED_METRICS = 16
/** `accuracy`, `f1`, `false-positive-rate`, `eval-examples` */
export const METRIC_NAME_PATTERN = /^[a-z][a-zA-Z0-9_-]{0,31}$/

export const ModelAnnounceBodyV1 = z
  .object({
    modelHash: z.string().regex(HASH_PATTERN, 'must be 64 lowercase hex characters'),
    parentHash: z.string().regex(HASH_PATTERN, 'must be 64 lowercase hex characters').nullable(),
    round: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    schema: z.string().regex(SCHEMA_PATTERN, 'must match ' + SCHEMA_PATTERN.source),
    metrics: z
      .record(z.string().regex(METRIC_NAME_PATTERN), z.number().min(-1e12).max(1e12))
      .refine((m) => Object.keys(m).length <= MAX_ANNOUNCED_METRICS, {
        message: `at most ${MAX_ANNOUNCED_METRICS} metrics`,
      }),
  })
  .strict()
  .refine((b) => b.parentHash !== b.modelHash, {
    message: 'a model cannot be its own parent',
    path: ['parentHash'],
  })

export type ModelAnnounceBody = z.infer<typeof ModelAnnounceBodyV1>
