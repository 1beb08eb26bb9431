import { encode } from 'cborg'
import { decodeUnsigned } from '../envelope/cbor.ts'
import { z } from 'zod'

/**
 * The alert catch-up protocol: one request and one response per stream, each a length-prefixed CBOR map.
 * The frames are not signed themselves; every alert inside is the original signed envelope and is judged
 * by the receiver exactly as if it had come over gossip.
 */
export const ALERTS_SYNC_PROTOCOL = '/shieldwall/alerts-sync/1.0.0'
/** hashed into the CID that nodes serving the protocol provide in the DHT */
export const ALERTS_SYNC_PROVIDER_KEY = 'shieldwall/alerts-sync/1'

export const MAX_SYNC_PAGE_LIMIT = 500
export const MAX_SYNC_CURSOR_LENGTH = 256
export const MAX_SYNC_ERROR_MESSAGE_LENGTH = 200

export const SYNC_ERROR_CODES = ['malformed_request', 'rate_limited', 'internal'] as const
export type SyncErrorCode = (typeof SYNC_ERROR_CODES)[number]

export class MalformedSyncMessageError extends Error {
  override name = 'MalformedSyncMessageError'
}

const uint = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)

const cursor = z.string().min(1).max(MAX_SYNC_CURSOR_LENGTH)

export const SyncRequestSchema = z.strictObject({
  /** alerts the server received at or after this time (ms since the epoch, server clock) */
  since: uint,
  /** the previous page's `nextCursor` */
  cursor: cursor.optional(),
  limit: z.number().int().min(1).max(MAX_SYNC_PAGE_LIMIT),
})
export type SyncRequest = z.infer<typeof SyncRequestSchema>

export const SyncPageSchema = z.strictObject({
  /** wire bytes of the original signed alert envelopes, oldest arrival first */
  alerts: z
    .array(z.custom<Uint8Array>((v) => v instanceof Uint8Array, 'must be a byte string'))
    .max(MAX_SYNC_PAGE_LIMIT),
  /** absent on the last page */
  nextCursor: cursor.optional(),
})
export type SyncPage = z.infer<typeof SyncPageSchema>

export const SyncErrorSchema = z.strictObject({
  error: z.enum(SYNC_ERROR_CODES),
  message: z.string().max(MAX_SYNC_ERROR_MESSAGE_LENGTH),
})
export type SyncError = z.infer<typeof SyncErrorSchema>

export type SyncResponse = SyncPage | SyncError

function decodeWith<T>(bytes: Uint8Array, schema: z.ZodType<T>, what: string): T {
  let value: unknown
  try {
    value = decodeUnsigned(bytes)
  } catch (err) {
    throw new MalformedSyncMessageError(`${what} is not valid CBOR: ${(err as Error).message}`)
  }
  const parsed = schema.safeParse(value)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new MalformedSyncMessageError(`${what}: ${issue.path.join('.') || 'value'}: ${issue.message}`)
  }
  return parsed.data
}

export function encodeSyncRequest(request: SyncRequest): Uint8Array {
  return encode(withoutUndefined(request))
}

export function decodeSyncRequest(bytes: Uint8Array): SyncRequest {
  return decodeWith(bytes, SyncRequestSchema, 'sync request')
}

export function encodeSyncResponse(response: SyncResponse): Uint8Array {
  return encode(withoutUndefined(response))
}

export function isSyncError(response: SyncResponse): response is SyncError {
  return 'error' in response
}

export function decodeSyncResponse(bytes: Uint8Array): SyncResponse {
  return decodeWith<SyncResponse>(bytes, z.union([SyncPageSchema, SyncErrorSchema]), 'sync response')
}

function withoutUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T
}
