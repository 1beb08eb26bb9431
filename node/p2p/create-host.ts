import { yamux } from '@chainsafe/libp2p-yamux'
import { bootstrap } from '@libp2p/bootstrap'
import { gossipsub, type GossipSub } from '@libp2p/gossipsub'
import { identify, type Identify } from '@libp2p/identify'
import type { ConnectionGater, PrivateKey } from '@libp2p/interface'
import { kadDHT, passthroughMapper, type KadDHT } from '@libp2p/kad-dht'
import { prefixLogger } from '@libp2p/logger'
import { memory } from '@libp2p/memory'
import { ping, type Ping } from '@libp2p/ping'
import { prometheusMetrics } from '@libp2p/prometheus-metrics'
import { tcp } from '@libp2p/tcp'
import type { Registry } from 'prom-client'
import { createLibp2p, type Libp2p } from 'libp2p'
import { createHash } from 'node:crypto'
import { scoreParams } from './gossip-scoring.ts'
import { noiseWithQuietFrames } from './noise-frames.ts'

export type ShieldwallServices = {
  identify: Identify
  ping: Ping
  pubsub: GossipSub
  dht?: KadDHT
}

export type ShieldwallHost = Libp2p<ShieldwallServices>

export interface HostInit {
  privateKey: PrivateKey
  listen: string[]
  announce?: string[]
  bootstrap?: string[]
  dht?: { enabled: boolean; protocolPrefix: string }
  maxConnections?: number
  /** this node's opinion of a peer (reputation), folded into its gossipsub score */
  appSpecificScore?: (peerId: string) => number
  /** libp2p's own metrics (connections, streams, protocols) join this Prometheus registry */
  metricsRegistry?: Registry
  /** prefix of libp2p's own debug logs (`DEBUG=libp2p:*`), e.g. the node name */
  logPrefix?: string
  /**
   * Which peers and addresses this host may talk to, checked on every dial and upgrade. Embedders (the
   * simulator's partitions, an operator's deny rules) supply one; by default libp2p allows everything.
   */
  connectionGater?: ConnectionGater
  /** ping every connection to find dead ones (libp2p's connection monitor); default true */
  connectionMonitor?: boolean
}

/**
 * The libp2p host: TCP (and the in-process memory transport for the simulator), Noise, Yamux, identify, ping,
 * gossipsub for alerts and a Kademlia DHT under our own protocol prefix so we never mix with the IPFS DHT.
 */
export async function createHost(init: HostInit): Promise<ShieldwallHost> {
  const dht = init.dht ?? { enabled: true, protocolPrefix: '/shieldwall' }
  const services: Record<string, unknown> = {
    identify: identify(),
    ping: ping(),
    pubsub: gossipsub({
      // Every message we gossip is an envelope signed by its author (protocol/envelope), and message ids are
      // content hashes: a second, transport-level signature per message would only cost each node a verify per
      // message (as Ethereum's consensus layer decided for the same reasons).
      globalSignaturePolicy: 'StrictNoSign',
      // Identical bytes are the same message whoever relays them, so the id is their hash. It is computed for
      // every copy received (most are duplicates), so it uses OpenSSL's SHA-256, about 2.5 times noble's speed on
      // messages this small.
      msgIdFn: (msg) => createHash('sha256').update(msg.data).digest(),
      // A lone node must still be able to record and later serve its alerts.
      allowPublishToZeroTopicPeers: true,
      ignoreDuplicatePublishError: true,
      emitSelf: false,
      fallbackToFloodsub: false,
      floodPublish: true,
      maxInboundDataLength: 1024 * 1024,
      // One peer's messages are judged one after another, and its stream is not read while they are: an RPC of
      // thousands of messages is then worked through at the pace of our validator (which yields to the event
      // loop) instead of all at once, the sender's next RPCs wait on the wire (stream backpressure), and each is
      // let in only if the verdicts so far left the sender above the graylist threshold. Other peers are
      // judged alongside.
      awaitRpcHandler: true,
      awaitRpcMessageHandler: true,
      ...scoreParams(init.appSpecificScore ?? (() => 0)),
    }),
  }
  if (dht.enabled) {
    services.dht = kadDHT({
      protocol: `${dht.protocolPrefix}/kad/1.0.0`,
      clientMode: false,
      // Members may sit on private networks or loopback (the simulator); keep every address.
      peerInfoMapper: passthroughMapper,
      allowQueryWithZeroPeers: true,
    })
  }
  const peerDiscovery = (init.bootstrap ?? []).length > 0 ? [bootstrap({ list: init.bootstrap ?? [] })] : []
  return createLibp2p<ShieldwallServices>({
    privateKey: init.privateKey,
    addresses: { listen: init.listen, announce: init.announce ?? [] },
    transports: [tcp(), memory()],
    connectionEncrypters: [noiseWithQuietFrames()],
    streamMuxers: [yamux()],
    peerDiscovery,
    connectionManager: { maxConnections: init.maxConnections ?? 200 },
    connectionMonitor: { enabled: init.connectionMonitor ?? true },
    ...(init.connectionGater !== undefined ? { connectionGater: init.connectionGater } : {}),
    services: services as never,
    ...(init.logPrefix !== undefined ? { logger: prefixLogger(init.logPrefix) } : {}),
    ...(init.metricsRegistry !== undefined
      ? {
          metrics: prometheusMetrics({
            registry: init.metricsRegistry,
            // process metrics are per process, not per node; one registry per node would repeat them
            collectDefaultMetrics: false,
            preserveExistingMetrics: true,
          }),
        }
      : {}),
  })
}
