/**
 * `/shieldwall/model-sync/1.0.0`: a node that missed rounds (or whose gate once said no) asks peers for their
 * current global model. One length-prefixed CBOR request and response per stream. Nothing here is signed and
 * nothing needs to be: the model's id is the hash of its content, so the receiver recomputes it from the weights
 * and the only thing a peer can lie about is which model is current, which the receiver settles by asking several
 * peers and taking the majority. Weights travel as f32, so the fetched model hashes exactly as the sender's.
 * (Model announces on gossip carry no weights: the announce schema is strict and a ~13 KB f32 model in every
 * announce would cost every peer bandwidth every round for the rare node that needs it.)
 */
import type { AbortOptions, Connection, PeerId, Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { encode } from 'cborg'
import { decodeUnsigned } from '../../../protocol/envelope/cbor.ts'
import { SenderRateLimiter } from '../../alerts/sender-rate-limiter.ts'
import { z } from 'zod'
import {
  HASH_PATTERN,
  MAX_UPDATE_DATA_BYTES,
  MAX_UPDATE_TENSORS,
} from '../../../protocol/messages/model-update.ts'

export const MODEL_SYNC_PROTOCOL = '/shieldwall/model-sync/1.0.0'
export const MAX_MODEL_SYNC_REQUEST_BYTES = 256
/** f32 weights of a model with MAX_UPDATE_PARAMS parameters, plus room for the rest */
export const MAX_MODEL_SYNC_RESPONSE_BYTES = MAX_UPDATE_DATA_BYTES * 2 + 16 * 1024

export class MalformedModelSyncMessageError extends Error {
  override name = 'MalformedModelSyncMessageError'
}

export class ModelSyncError extends Error {
  override name = 'ModelSyncError'
}

const hash = z.string().regex(HASH_PATTERN)

export const ModelSyncRequestSchema = z.strictObject({
  /** a specific model; the peer's current one when absent */
  modelHash: hash.optional(),
})
export type ModelSyncRequest = z.infer<typeof ModelSyncRequestSchema>

export const ModelSyncResponseSchema = z.strictObject({
  modelHash: hash,
  parentHash: hash.nullable(),
  round: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  schema: z.string().max(64),
  shapes: z.array(z.array(z.number().int().min(1)).max(4)).max(MAX_UPDATE_TENSORS),
  /** little-endian f32 of every tensor, in order */
  data: z
    .custom<Uint8Array>((v) => v instanceof Uint8Array, 'must be bytes')
    .refine((d) => d.length <= MAX_UPDATE_DATA_BYTES * 2),
})
export type ModelSyncResponse = z.infer<typeof ModelSyncResponseSchema>

export const ModelSyncErrorSchema = z.strictObject({
  error: z.enum(['not_found', 'malformed_request', 'rate_limited', 'internal']),
  message: z.string().max(200),
})
export type ModelSyncErrorBody = z.infer<typeof ModelSyncErrorSchema>

function decodeRaw(bytes: Uint8Array): unknown {
  try {
    return decodeUnsigned(bytes)
  } catch (err) {
    throw new MalformedModelSyncMessageError(`undecodable: ${(err as Error).message}`)
  }
}

function parseWith<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  const parsed = schema.safeParse(raw)
  if (!parsed.success) throw new MalformedModelSyncMessageError(parsed.error.issues[0].message)
  return parsed.data
}

function decodeWith<S extends z.ZodType>(schema: S, bytes: Uint8Array): z.output<S> {
  return parseWith(schema, decodeRaw(bytes))
}

export const encodeModelSyncRequest = (r: ModelSyncRequest): Uint8Array => encode(r)
export const decodeModelSyncRequest = (b: Uint8Array) => decodeWith(ModelSyncRequestSchema, b)
export const encodeModelSyncResponse = (r: ModelSyncResponse | ModelSyncErrorBody): Uint8Array => encode(r)
export function decodeModelSyncResponse(b: Uint8Array): ModelSyncResponse | ModelSyncErrorBody {
  // the largest frame there is: decoded once, then read as an error or as a model
  const raw = decodeRaw(b)
  if (raw !== null && typeof raw === 'object' && 'error' in raw) return parseWith(ModelSyncErrorSchema, raw)
  return parseWith(ModelSyncResponseSchema, raw)
}

export interface ModelSyncLibp2p {
  handle(
    protocol: string,
    handler: (stream: Stream, connection: Connection) => void | Promise<void>,
    options?: { maxInboundStreams?: number },
  ): Promise<void>
  unhandle(protocol: string): Promise<void>
  dialProtocol(peer: PeerId, protocol: string, options?: AbortOptions): Promise<Stream>
}

export interface ModelSyncServeOptions {
  timeoutMs: number
  /**
   * Requests answered per peer per minute; more get `rate_limited` before the model is read. A request is a few
   * bytes and its answer the whole model, so without a limit one peer could make this node read and send
   * megabytes a second. A node that syncs asks each peer once, so the default leaves ample room.
   */
  requestsPerPeerPerMinute?: number
  clock?: () => number
}

export const DEFAULT_MODEL_SYNC_REQUESTS_PER_PEER_PER_MINUTE = 12

/** Serves requests with `answer`; malformed or oversize frames end the stream. */
export async function serveModelSync(
  libp2p: ModelSyncLibp2p,
  answer: (peer: string, request: ModelSyncRequest) => Promise<ModelSyncResponse | ModelSyncErrorBody>,
  options: ModelSyncServeOptions,
): Promise<void> {
  const perMinute = options.requestsPerPeerPerMinute ?? DEFAULT_MODEL_SYNC_REQUESTS_PER_PEER_PER_MINUTE
  const clock = options.clock ?? Date.now
  const requests = new SenderRateLimiter(perMinute)
  await libp2p.handle(
    MODEL_SYNC_PROTOCOL,
    async (stream, connection) => {
      const signal = AbortSignal.timeout(options.timeoutMs)
      try {
        const lp = lpStream(stream, {
          maxDataLength: MAX_MODEL_SYNC_REQUEST_BYTES,
          maxBufferSize: MAX_MODEL_SYNC_REQUEST_BYTES + 16,
        })
        const frame = await lp.read({ signal })
        const peer = connection.remotePeer.toString()
        let response: ModelSyncResponse | ModelSyncErrorBody
        try {
          response = requests.admit(peer, clock())
            ? await answer(peer, decodeModelSyncRequest(frame.subarray()))
            : { error: 'rate_limited', message: `more than ${perMinute} requests a minute` }
        } catch (err) {
          response =
            err instanceof MalformedModelSyncMessageError
              ? { error: 'malformed_request', message: err.message.slice(0, 200) }
              : { error: 'internal', message: 'the model could not be read' }
        }
        await lp.write(encodeModelSyncResponse(response), { signal })
        await stream.close({ signal })
      } catch (err) {
        stream.abort(err as Error)
      }
    },
    { maxInboundStreams: 2 },
  )
}

export async function fetchModel(
  libp2p: ModelSyncLibp2p,
  peer: PeerId,
  request: ModelSyncRequest,
  timeoutMs: number,
): Promise<ModelSyncResponse> {
  const signal = AbortSignal.timeout(timeoutMs)
  const stream = await libp2p.dialProtocol(peer, MODEL_SYNC_PROTOCOL, { signal })
  try {
    const lp = lpStream(stream, {
      maxDataLength: MAX_MODEL_SYNC_RESPONSE_BYTES,
      maxBufferSize: MAX_MODEL_SYNC_RESPONSE_BYTES + 16,
    })
    await lp.write(encodeModelSyncRequest(request), { signal })
    await stream.close({ signal })
    const response = decodeModelSyncResponse((await lp.read({ signal })).subarray())
    if ('error' in response) throw new ModelSyncError(`${response.error}: ${response.message}`)
    return response
  } catch (err) {
    stream.abort(err as Error)
    throw err
  }
}
