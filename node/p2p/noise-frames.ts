import { noise } from '@chainsafe/libp2p-noise'
import type { ConnectionEncrypter, SecuredConnection } from '@libp2p/interface'

type NoiseInit = Parameters<typeof noise>[0]
type NoiseComponents = Parameters<ReturnType<typeof noise>>[0]

/** The part of Noise's encrypted stream this module touches (`@libp2p/utils`' LengthPrefixedDecoder). */
interface FrameDecoderHolder {
  decoder?: { lengthDecoder?: unknown }
}

/**
 * Noise's frame length: a 16-bit big-endian prefix. Noise ships a decoder that throws a RangeError when fewer
 * than two bytes are buffered, and the frame loop uses that throw to stop; since a read usually ends on a frame
 * boundary, that is one Error (with its stack trace) per read on every connection. In the simulator's 50-node
 * profile it was a tenth of all CPU (the same pattern Lodestar measured in mplex, ChainSafe/lodestar#3467).
 * This one answers 0 instead: the loop then needs 2 bytes for the frame, has fewer, and waits, which is the
 * same outcome without the throw. Frame contents and limits are untouched.
 */
export function frameLength(data: Uint8Array | { length: number; getUint16(at: number): number }): number {
  if (data.length < 2) return 0
  if (data instanceof Uint8Array) return (data[0] << 8) | data[1]
  return data.getUint16(0)
}
frameLength.bytes = 2

/**
 * Installs `frameLength` on a secured Noise connection. A Noise release that renames its decoder keeps working
 * with its own (the test for this module fails then, so the upgrade is noticed).
 */
async function withFrameLength<S extends SecuredConnection<unknown>>(securing: Promise<S>): Promise<S> {
  const secured = await securing
  const decoder = (secured.connection as unknown as FrameDecoderHolder).decoder
  if (decoder !== undefined && typeof decoder.lengthDecoder === 'function')
    decoder.lengthDecoder = frameLength
  return secured
}

/**
 * `noise(init)` whose secured connections read their frames without a throw per read (see `frameLength`). The
 * handshake, keys and wire format are Noise's own.
 */
export function noiseWithQuietFrames(init?: NoiseInit): (components: NoiseComponents) => ConnectionEncrypter {
  const make = noise(init)
  return (components) => {
    const inner = make(components)
    const wrapped: ConnectionEncrypter = Object.create(inner)
    wrapped.secureInbound = (connection, options) => withFrameLength(inner.secureInbound(connection, options))
    wrapped.secureOutbound = (connection, options) =>
      withFrameLength(inner.secureOutbound(connection, options))
    return wrapped
  }
}
