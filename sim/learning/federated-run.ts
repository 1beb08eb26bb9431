/**
 * Drives one federated run on a simulated network and measures it: the nodes train, gossip, aggregate and gate
 * on their own round clocks; this only seeds their data, makes the hostile members poison, listens to every
 * node's aggregation and scores the round's model on the test set afterwards (so scoring never competes with
 * the nodes' training for the one thread).
 */
import type { AggregationRule } from '../../node/learning/aggregation/aggregate.ts'
import type { Tf } from '../../node/learning/backend.ts'
import { decodeWeights } from '../../node/learning/codec/weights-codec.ts'
import type { AggregationRecord } from '../../node/learning/federation/federation-service.ts'
import { evaluateModel } from '../../node/learning/model/metrics.ts'
import type { ShieldwallNode } from '../../node/shieldwall-node.ts'
import { TOPICS } from '../../protocol/topics.ts'
import { round3 } from '../metrics/measurements.ts'
import { sleep, type SimMember, type SimNetwork } from '../network.ts'
import type { LearningRound, LearningSpec } from './learning-spec.ts'
import type { FlData } from './nsl-kdd-shards.ts'

export class FederatedRunError extends Error {
  override name = 'FederatedRunError'
}

export interface FederatedRunInput {
  network: SimNetwork
  spec: LearningSpec
  rule: AggregationRule
  data: FlData
  /** member indices that poison their updates */
  poisoners: ReadonlySet<number>
  tf: Tf
}

interface Seen {
  record: AggregationRecord
  /** epsilon this node had spent when the round closed */
  epsilon: number
  /** the model this node detects with after the round */
  adopted: string
}

const MESH_TIMEOUT_MS = 20_000
/** gossipsub heartbeats for the models topic's mesh to form once peers subscribed */
const MESH_SETTLE_MS = 2_000

export async function runFederatedRounds(input: FederatedRunInput): Promise<LearningRound[]> {
  const { network, spec, data } = input
  const members = network.online()
  const node = (m: SimMember) => m.node as ShieldwallNode
  for (const m of members) {
    if (node(m).learning.init.features !== 'nsl-kdd')
      throw new FederatedRunError(`${m.name} does not run the NSL-KDD model (learning.model.features)`)
  }
  await waitForMesh(members)

  for (const m of members) {
    const factor = input.poisoners.has(m.index) ? spec.poisonFactor : undefined
    node(m).learning.setUpdateTransform(
      factor === undefined ? undefined : (delta) => delta.map((v) => v * factor),
    )
  }
  // Seed right after a close so every node has its data before the next round trains.
  const first = members.find((m) => m.role === 'honest') ?? (members[0] as SimMember)
  const seededAfter = await nextClose(node(first), 2 * spec.roundMs + 5_000)
  for (const m of members) {
    const share = data.shares[m.index]
    if (share === undefined) continue
    const d = data.dims
    node(m).learning.data.seed(
      share.rows.map((row, k) => ({
        features: share.x.subarray(k * d, (k + 1) * d),
        label: share.y[k] as number,
        key: `nsl-kdd:${row}`,
      })),
    )
  }

  const seen = members.map(() => new Map<number, Seen>())
  const offs = members.map((m, i) =>
    node(m).learning.onAggregation((record) => {
      const n = node(m)
      ;(seen[i] as Map<number, Seen>).set(record.round, {
        record,
        epsilon: n.learning.status().epsilonSpent,
        adopted: n.learning.modelHash,
      })
    }),
  )
  const last = seededAfter + spec.rounds
  const deadline = Date.now() + (spec.rounds + 1) * spec.roundMs + 10_000
  try {
    while (Date.now() < deadline && !seen.every((s) => s.has(last))) await sleep(200)
  } finally {
    for (const off of offs) off()
    for (const m of members) node(m).learning.setUpdateTransform(undefined)
  }

  const honest = members.flatMap((m, i) => (m.role === 'honest' ? [i] : []))
  const rounds: LearningRound[] = []
  for (let k = 1; k <= spec.rounds; k++) {
    const r = seededAfter + k
    const views = honest.map((i) => (seen[i] as Map<number, Seen>).get(r))
    const hashes = views.map((v) => (v === undefined ? undefined : (v.record.modelHash ?? v.record.baseHash)))
    const majority = mostCommon(hashes.filter((h) => h !== undefined))
    if (majority === undefined) continue
    const agreed = hashes.every((h) => h === majority)
    const holder = honest
      .map((i) => members[i] as SimMember)
      .find((_, j) => hashes[j] === majority) as SimMember
    const version = await node(holder).learning.registry.get(majority)
    if (version === undefined) continue
    const model = { ...node(holder).learning.model, weights: decodeWeights(version.weights) }
    const metrics = evaluateModel(input.tf, model, data.test.x, data.test.y)
    const ref = views.find((v) => v !== undefined && (v.record.modelHash ?? v.record.baseHash) === majority)
    rounds.push({
      round: k,
      rule: input.rule,
      accuracy: round3(metrics.accuracy),
      f1: round3(metrics.f1),
      fpr: round3(metrics.fpr),
      rocAuc: round3(Number.isFinite(metrics.rocAuc) ? metrics.rocAuc : 0.5),
      epsilon: round3(Math.max(0, ...views.map((v) => v?.epsilon ?? 0))),
      agreed,
      modelHash: majority,
      adopted: views.filter((v) => v?.adopted === majority).length,
      honest: honest.length,
      participants: ref?.record.participants.length ?? 0,
      rejections: views.flatMap((v, j) =>
        v?.record.gate?.decision === 'reject'
          ? [`${(members[honest[j] as number] as SimMember).name}: ${v.record.gate.reason}`]
          : [],
      ),
    })
  }
  return rounds
}

async function waitForMesh(members: SimMember[]): Promise<void> {
  const want = Math.min(2, members.length - 1)
  const deadline = Date.now() + MESH_TIMEOUT_MS
  while (Date.now() < deadline) {
    const ready = members.every(
      (m) => (m.node as ShieldwallNode).host.services.pubsub.getSubscribers(TOPICS.models).length >= want,
    )
    if (ready) break
    await sleep(200)
  }
  await sleep(MESH_SETTLE_MS)
}

/** the round of the node's next aggregation */
function nextClose(node: ShieldwallNode, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off()
      reject(new FederatedRunError(`no round closed within ${timeoutMs} ms`))
    }, timeoutMs)
    const off = node.learning.onAggregation((r) => {
      clearTimeout(timer)
      off()
      resolve(r.round)
    })
  })
}

function mostCommon(values: string[]): string | undefined {
  const counts = new Map<string, number>()
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1)
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0]
}
