import { createHash } from 'node:crypto'
import type { GossipSub } from '@libp2p/gossipsub'
import { RPC } from '@libp2p/gossipsub/message'

/** What one member's gossipsub sent and received, summed over all its restarts. */
export interface GossipCounts {
  rpcsSent: number
  messagesSent: number
  bytesSent: number
  rpcsReceived: number
  messagesReceived: number
  bytesReceived: number
  /** distinct messages received (the rest of messagesReceived are duplicates) */
  uniqueReceived: number
}

type Encode = (obj: RPC) => Uint8Array

let current: GossipCounts | undefined
let originalEncode: Encode | undefined

/**
 * Counts gossipsub traffic per node without libp2p metrics (which would need a registry per node). The RPC
 * codec is shared by every node in the process, so the encoder is wrapped once and charges the bytes to
 * whichever node's `sendRpc` is running: sendRpc encodes synchronously, so the attribution is exact.
 */
function patchEncoder(): void {
  if (originalEncode !== undefined) return
  const encode = RPC.encode as Encode
  originalEncode = encode
  ;(RPC as unknown as { encode: Encode }).encode = (obj: RPC) => {
    const bytes = encode(obj)
    if (current !== undefined) current.bytesSent += bytes.length
    return bytes
  }
}

export function newGossipCounts(): GossipCounts {
  return {
    rpcsSent: 0,
    messagesSent: 0,
    bytesSent: 0,
    rpcsReceived: 0,
    messagesReceived: 0,
    bytesReceived: 0,
    uniqueReceived: 0,
  }
}

/** Instruments one gossipsub instance, charging its traffic to `counts`. */
export function meterGossip(pubsub: GossipSub, counts: GossipCounts, seen: Set<string>): void {
  patchEncoder()
  const ps = pubsub as unknown as {
    sendRpc: (id: string, rpc: RPC) => boolean
    decodeRpc: (bytes: Uint8Array) => RPC
  }
  const send = ps.sendRpc.bind(pubsub)
  ps.sendRpc = (id, rpc) => {
    const before = current
    current = counts
    try {
      const ok = send(id, rpc)
      if (ok) {
        counts.rpcsSent++
        counts.messagesSent += rpc.messages?.length ?? 0
      }
      return ok
    } finally {
      current = before
    }
  }
  const decode = ps.decodeRpc.bind(pubsub)
  ps.decodeRpc = (bytes) => {
    const rpc = decode(bytes)
    counts.rpcsReceived++
    counts.bytesReceived += bytes.length
    for (const m of rpc.messages ?? []) {
      counts.messagesReceived++
      if (m.data === undefined) continue
      const id = createHash('sha1').update(m.data).digest('base64')
      if (!seen.has(id)) {
        seen.add(id)
        counts.uniqueReceived++
      }
    }
    return rpc
  }
}
