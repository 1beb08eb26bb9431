import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { RPC } from '@libp2p/gossipsub/message'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { generateSecretKey, getPublicKey } from '../../crypto/signing/ed25519.ts'
import { createHost, type ShieldwallHost } from '../../node/p2p/create-host.ts'
import { peerGossipScore, SCORE_THRESHOLDS } from '../../node/p2p/gossip-scoring.ts'
import type { ShieldwallNode } from '../../node/shieldwall-node.ts'
import { encodeEnvelope, sealEnvelope, type Envelope } from '../../protocol/envelope/envelope.ts'
import { ALERT_TYPE, ALERT_VERSION, type AlertBody } from '../../protocol/messages/alert.ts'
import {
  BLOCKLIST_SUMMARY_TYPE,
  BLOCKLIST_SUMMARY_VERSION,
  type BlocklistSummaryBody,
  type SummaryEntry,
} from '../../protocol/messages/blocklist-summary.ts'
import { TOPICS } from '../../protocol/topics.ts'
import { waitFor } from './test-node.ts'

/**
 * Hostile peers for tests: real libp2p hosts built with the node's own `createHost` (TCP on loopback, Noise,
 * Yamux, gossipsub with the node's scoring), holding whatever keys the test gives them and sending whatever
 * bytes it wants on any topic. Their libp2p identity and their signing key are one Ed25519 key, as on a real
 * node; `signer()` makes extra signing identities that are not peers at all.
 */

/** An Ed25519 signing identity: the secret seed and its public key. */
export interface Signer {
  secretKey: Uint8Array
  publicKey: Uint8Array
}

export function signer(secretKey: Uint8Array = generateSecretKey()): Signer {
  return { secretKey, publicKey: getPublicKey(secretKey) }
}

export interface AlertFields {
  seq?: number
  createdAt?: number
  expiresAt?: number
  /** overrides the envelope's sender without changing who signs (a forgery) */
  sender?: Uint8Array
  body?: Partial<AlertBody>
}

/** A sealed alert signed by `by`, with plausible defaults for every field (one hour to live). */
export function sealedAlert(by: Signer, fields: AlertFields = {}, now = Date.now()): Envelope<AlertBody> {
  const createdAt = fields.createdAt ?? now
  const envelope = sealEnvelope<AlertBody>(
    {
      type: ALERT_TYPE,
      version: ALERT_VERSION,
      sender: by.publicKey,
      seq: fields.seq ?? 1,
      createdAt,
      expiresAt: fields.expiresAt ?? createdAt + 3_600_000,
      body: {
        indicator: '192.0.2.10',
        scenario: 'ssh-bf',
        severity: 'high',
        confidence: 1,
        events: 5,
        windowSeconds: 60,
        firstSeen: createdAt - 60_000,
        lastSeen: createdAt,
        ...fields.body,
      },
    },
    by.secretKey,
  )
  return fields.sender === undefined ? envelope : { ...envelope, sender: fields.sender }
}

/** The wire bytes of `sealedAlert`. */
export function alertBytes(by: Signer, fields: AlertFields = {}, now = Date.now()): Uint8Array {
  return encodeEnvelope(sealedAlert(by, fields, now))
}

/**
 * `count` distinct valid alerts from one key, signed in advance (seq `firstSeq`, `firstSeq + 1`, ..., each about
 * its own address in 198.18.0.0/15, the benchmarking range), so a flood can be sent as fast as the wire allows.
 */
export function presignAlerts(
  by: Signer,
  count: number,
  opts: { firstSeq?: number; now?: number; ttlMs?: number } = {},
): Uint8Array[] {
  const now = opts.now ?? Date.now()
  const firstSeq = opts.firstSeq ?? 1
  const out: Uint8Array[] = []
  for (let i = 0; i < count; i++) {
    const n = firstSeq + i
    out.push(
      alertBytes(
        by,
        {
          seq: n,
          createdAt: now,
          expiresAt: now + (opts.ttlMs ?? 3_600_000),
          body: { indicator: `198.${18 + ((n >> 16) & 1)}.${(n >> 8) & 255}.${n & 255}` },
        },
        now,
      ),
    )
  }
  return out
}

/**
 * The wire bytes of a blocklist summary signed by `by` (five minutes to live): `entries` as given, by default
 * `count` addresses in 198.18.0.0/15 at score 0.9.
 */
export function summaryBytes(
  by: Signer,
  fields: { seq?: number; entries?: SummaryEntry[]; count?: number } = {},
  now = Date.now(),
): Uint8Array {
  const entries =
    fields.entries ??
    Array.from({ length: fields.count ?? 10 }, (_, i) => ({
      value: `198.18.${(i >> 8) & 255}.${i & 255}`,
      score: 0.9,
      scenario: 'ssh-bf',
      expiresAt: now + 3_600_000,
    }))
  return encodeEnvelope(
    sealEnvelope<BlocklistSummaryBody>(
      {
        type: BLOCKLIST_SUMMARY_TYPE,
        version: BLOCKLIST_SUMMARY_VERSION,
        sender: by.publicKey,
        seq: fields.seq ?? 1,
        createdAt: now,
        expiresAt: now + 300_000,
        body: { entries, generatedAt: now, total: entries.length, truncated: false },
      },
      by.secretKey,
    ),
  )
}

export interface HostilePeer extends Signer {
  host: ShieldwallHost
  peerId: string
  /** subscribes to the topics and dials the node, then waits until each side sees the other subscribed */
  connect(node: ShieldwallNode, topics?: readonly string[]): Promise<void>
  /**
   * The same for a node in another process, known only by its address: waits until this peer sees it
   * subscribed (what the node sees cannot be read from here).
   */
  connectTo(address: string, topics?: readonly string[]): Promise<void>
  /** gossips raw bytes on a topic (the peer's own validator is not run on what it publishes) */
  publish(topic: string, bytes: Uint8Array): Promise<void>
  /**
   * Gossips a batch as fast as the host can queue it (`concurrency` publishes in flight), returning how many
   * were queued. Failures (a graylisted peer may find itself pruned) are counted, not thrown.
   */
  publishMany(topic: string, batch: readonly Uint8Array[], concurrency?: number): Promise<number>
  /**
   * Writes `frames` (from `rpcFrames`) on a gossipsub stream of its own to `remotePeerId`, bypassing this
   * peer's gossipsub (no per-message RPC, no queue): as fast as the connection takes them. The node replaces
   * its inbound gossipsub stream from this peer with this one.
   */
  writeRpcs(remotePeerId: string, frames: readonly Uint8Array[]): Promise<void>
  /** signs an alert with this peer's own key */
  alert(fields?: AlertFields, now?: number): Envelope<AlertBody>
  stop(): Promise<void>
}

/** A hostile peer on loopback whose peer id is the public key of `secretKey` (fresh by default). */
export async function createHostilePeer(secretKey: Uint8Array = generateSecretKey()): Promise<HostilePeer> {
  const me = signer(secretKey)
  const host = await createHost({
    privateKey: await generateKeyPairFromSeed('Ed25519', secretKey),
    listen: ['/ip4/127.0.0.1/tcp/0'],
    dht: { enabled: false, protocolPrefix: '/shieldwall' },
    connectionMonitor: false,
  })
  const pubsub = host.services.pubsub
  const peerId = host.peerId.toString()
  return {
    ...me,
    host,
    peerId,
    async connect(node, topics = [TOPICS.alerts]) {
      for (const topic of topics) pubsub.subscribe(topic)
      await host.dial(multiaddr(node.addresses()[0]))
      const nodePubsub = node.host.services.pubsub
      const nodeId = node.host.peerId.toString()
      await waitFor(
        () =>
          topics.every(
            (t) =>
              pubsub.getSubscribers(t).some((p) => p.toString() === nodeId) &&
              nodePubsub.getSubscribers(t).some((p) => p.toString() === peerId),
          ),
        10_000,
        `the node and hostile peer to see each other on ${topics.join(', ')}`,
      )
    },
    async connectTo(address, topics = [TOPICS.alerts]) {
      for (const topic of topics) pubsub.subscribe(topic)
      const conn = await host.dial(multiaddr(address))
      const remote = conn.remotePeer.toString()
      await waitFor(
        () => topics.every((t) => pubsub.getSubscribers(t).some((p) => p.toString() === remote)),
        20_000,
        `${remote} to be seen subscribed to ${topics.join(', ')}`,
      )
    },
    async publish(topic, bytes) {
      await pubsub.publish(topic, bytes)
    },
    async publishMany(topic, batch, concurrency = 256) {
      let queued = 0
      for (let i = 0; i < batch.length; i += concurrency) {
        const results = await Promise.allSettled(
          batch.slice(i, i + concurrency).map((bytes) => pubsub.publish(topic, bytes)),
        )
        queued += results.filter((r) => r.status === 'fulfilled').length
      }
      return queued
    },
    async writeRpcs(remotePeerId, frames) {
      const stream = await host.dialProtocol(peerIdFromString(remotePeerId), GOSSIPSUB_PROTOCOL)
      for (const frame of frames) if (!stream.send(frame)) await stream.onDrain()
      // the stream is left open: closing it could drop frames the node has not read yet
    },
    alert(fields = {}, now = Date.now()) {
      return sealedAlert(me, fields, now)
    },
    async stop() {
      await host.stop()
    },
  }
}

const GOSSIPSUB_PROTOCOL = '/meshsub/1.2.0'

/**
 * Length-prefixed gossipsub RPC frames carrying `messages` on `topic`, `perRpc` to a frame (a node reads at
 * most 1 MiB and 5,000 messages per RPC). No from, seqno or signature: our topics are StrictNoSign. Encoded in
 * advance so writing them is the only work left during a flood.
 */
export function rpcFrames(topic: string, messages: readonly Uint8Array[], perRpc = 1000): Uint8Array[] {
  const frames: Uint8Array[] = []
  for (let i = 0; i < messages.length; i += perRpc) {
    const rpc = RPC.encode({
      subscriptions: [],
      messages: messages.slice(i, i + perRpc).map((data) => ({ topic, data })),
    })
    frames.push(concat(varint(rpc.length), rpc))
  }
  return frames
}

function varint(n: number): Uint8Array {
  const out: number[] = []
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80)
    n >>>= 7
  }
  out.push(n)
  return Uint8Array.from(out)
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}

/** `n` hostile peers with fresh identities, each connected to `node` on `topics`. */
export async function createHostilePeers(
  n: number,
  node: ShieldwallNode,
  topics: readonly string[] = [TOPICS.alerts],
): Promise<HostilePeer[]> {
  const peers: HostilePeer[] = []
  for (let i = 0; i < n; i++) {
    const peer = await createHostilePeer()
    await peer.connect(node, topics)
    peers.push(peer)
  }
  return peers
}

/** The gossipsub score `node` gives `peerId` right now (undefined if it knows no such peer). */
export function scoreOnNode(node: ShieldwallNode, peerId: string): number | undefined {
  return peerGossipScore(node.host.services.pubsub, peerId)
}

/** Whether `node` now drops every RPC from `peerId` (its score is below gossipsub's graylist threshold). */
export function graylistedOnNode(node: ShieldwallNode, peerId: string): boolean {
  const score = scoreOnNode(node, peerId)
  return score !== undefined && score < SCORE_THRESHOLDS.graylistThreshold
}

/** Every alert the node has judged so far, whatever the verdict. */
export function alertsJudged(node: ShieldwallNode): number {
  const c = node.alerts.counts
  const sum = (o: Partial<Record<string, number>>) => Object.values(o).reduce((a = 0, b = 0) => a + b, 0) ?? 0
  return c.accepted + sum(c.rejected) + sum(c.ignored)
}

/** Publishes `bytes` and waits until the node has judged one more alert than before. */
export async function sendAndJudge(
  node: ShieldwallNode,
  peer: HostilePeer,
  bytes: Uint8Array,
): Promise<void> {
  const before = alertsJudged(node)
  await peer.publish(TOPICS.alerts, bytes)
  await waitFor(() => alertsJudged(node) > before, 5000, 'the node to judge the message')
}

export async function stopAll(peers: readonly HostilePeer[]): Promise<void> {
  await Promise.allSettled(peers.map((p) => p.stop()))
}
