import { generateKeyPair } from '@libp2p/crypto/keys'
import { defaultLogger } from '@libp2p/logger'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { LengthPrefixedDecoder, multiaddrConnectionPair } from '@libp2p/utils'
import { describe, expect, it } from 'vitest'
import { frameLength, noiseWithQuietFrames } from './noise-frames.ts'

function framed(payloads: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(payloads.reduce((n, p) => n + 2 + p.length, 0))
  let at = 0
  for (const p of payloads) {
    out[at] = p.length >> 8
    out[at + 1] = p.length & 0xff
    out.set(p, at + 2)
    at += 2 + p.length
  }
  return out
}

describe('frameLength', () => {
  it('reads a 16-bit big-endian length', () => {
    expect(frameLength(Uint8Array.of(0x01, 0x02, 0xff))).toBe(0x0102)
    expect(frameLength(Uint8Array.of(0xff, 0xfe))).toBe(0xfffe)
  })

  it('answers 0, never a throw, while fewer than two bytes are buffered', () => {
    expect(frameLength(new Uint8Array(0))).toBe(0)
    expect(frameLength(Uint8Array.of(7))).toBe(0)
  })

  // the decoder hands frameLength its buffer as a list of chunks, so this also covers that branch
  it('gives the same frames as before for every way a stream can be cut into reads', () => {
    const payloads = [Uint8Array.of(1, 2, 3), new Uint8Array(300).fill(9), Uint8Array.of(42)]
    const wire = framed(payloads)
    for (let cut1 = 0; cut1 <= wire.length; cut1 += 7) {
      for (const cut2 of [cut1, cut1 + 1, cut1 + 2, wire.length]) {
        if (cut2 > wire.length) continue
        const decoder = new LengthPrefixedDecoder({ lengthDecoder: frameLength, encodingLength: () => 2 })
        const frames: number[][] = []
        for (const chunk of [wire.subarray(0, cut1), wire.subarray(cut1, cut2), wire.subarray(cut2)])
          for (const f of decoder.decode(chunk)) frames.push([...f.subarray()])
        expect(frames).toEqual(payloads.map((p) => [...p]))
      }
    }
  })
})

describe('noiseWithQuietFrames', () => {
  it('secures a real connection pair whose frames are read with frameLength, and carries data both ways', async () => {
    const keys = [await generateKeyPair('Ed25519'), await generateKeyPair('Ed25519')]
    const [outbound, inbound] = multiaddrConnectionPair()
    const encrypters = keys.map((privateKey) =>
      noiseWithQuietFrames()({
        privateKey,
        logger: defaultLogger(),
        upgrader: { getStreamMuxers: () => new Map() },
      } as never),
    )
    const [a, b] = await Promise.all([
      encrypters[0].secureOutbound(outbound, {
        remotePeer: peerIdFromPrivateKey(keys[1]),
        skipStreamMuxerNegotiation: true,
      }),
      encrypters[1].secureInbound(inbound, { skipStreamMuxerNegotiation: true }),
    ])
    expect(b.remotePeer.equals(peerIdFromPrivateKey(keys[0]))).toBe(true)
    for (const side of [a, b])
      expect(
        (side.connection as unknown as { decoder: { lengthDecoder: unknown } }).decoder.lengthDecoder,
      ).toBe(frameLength)

    // 100 KB is more than one Noise frame (65,535 bytes): it arrives as several frames, in order
    const big = new Uint8Array(100_000).map((_, i) => i % 251)
    const received: Uint8Array[] = []
    const got = new Promise<void>((resolve) => {
      b.connection.addEventListener('message', (evt) => {
        received.push(evt.data.subarray())
        if (received.reduce((n, r) => n + r.length, 0) >= big.length + 3) resolve()
      })
    })
    a.connection.send(Uint8Array.of(1, 2, 3))
    a.connection.send(big)
    await got
    const all = Buffer.concat(received)
    expect([...all.subarray(0, 3)]).toEqual([1, 2, 3])
    expect(all.subarray(3).equals(big)).toBe(true)

    const back = new Promise<Uint8Array>((resolve) =>
      a.connection.addEventListener('message', (evt) => resolve(evt.data.subarray()), { once: true }),
    )
    b.connection.send(Uint8Array.of(9))
    expect([...(await back)]).toEqual([9])
    await Promise.all([a.connection.close(), b.connection.close()])
  })
})
