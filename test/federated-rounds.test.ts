import { multiaddr } from '@multiformats/multiaddr'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AggregationRecord } from '../node/learning/federation/federation-service.ts'
import { evaluate } from '../node/learning/federation/gate.ts'
import { initTensorflow } from '../node/learning/backend.ts'
import { trainLocal } from '../node/learning/dp/local-training.ts'
import { decodeWeights } from '../node/learning/codec/weights-codec.ts'
import { flattenWeights } from '../node/learning/model/mlp.ts'
import { syntheticExamples } from '../node/learning/federation/synthetic-examples.ts'
import { TrainingData } from '../node/learning/federation/training-data.ts'
import { createMlp } from '../node/learning/model/mlp.ts'
import { LIVE_FEATURE_NAMES, LIVE_FEATURE_SCHEMA } from '../node/learning/model/feature-schema-ref.ts'
import type { ShieldwallNode } from '../node/shieldwall-node.ts'
import { TOPICS } from '../protocol/topics.ts'
import { api, startTestNode, stopAndRemove, waitFor } from './helpers/test-node.ts'

/**
 * Five nodes train in this one thread at each round's train time; on a busy machine 5 s rounds (publish deadline
 * 2.4 s after training starts) left the last trainer past the deadline, so the round ran without its update. With
 * these rounds training has 6.75 s until the deadline and aggregation 3 s before the next round trains.
 */
const ROUND_MS = 12_000
/** one round at ~480 training examples costs epsilon ~3.3, two ~4.1: this node contributes once, then stops */
const SMALL_BUDGET = 3.8
const HOSTILE = 3

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0
  let na = 0
  let nb = 0
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i]
    na += a[i] * a[i]
    nb += b[i] * b[i]
  }
  return dot / Math.sqrt(na * nb)
}

async function weightsOf(node: ShieldwallNode, id: string): Promise<Float32Array> {
  const version = await node.learning.registry.get(id)
  return flattenWeights(decodeWeights(version!.weights))
}

function learning(extra: Record<string, unknown> = {}) {
  return {
    p2p: { listen: ['/ip4/127.0.0.1/tcp/0'], dht: { enabled: false } },
    learning: {
      roundMs: ROUND_MS,
      trainFraction: 0.05,
      closeFraction: 0.8,
      aggregation: { rule: 'median' },
      // A DP-noised first step from a random start moves a slice of ~100 examples' log-loss by up to ~0.15; the
      // poisoned direction, had it won, by 0.7 and more. The test needs every node's gate to pass.
      gate: { lossMargin: 0.3 },
      privacy: { epsilonBudget: 1000 },
      ...extra,
    },
  }
}

describe('federated rounds', () => {
  // honest: 0, 1, 2; hostile (sign-flipped x10 updates): 3; small privacy budget: 4
  let nodes: ShieldwallNode[] = []
  const records: Map<number, AggregationRecord>[] = []
  const sent = new Map<number, Map<number, Float32Array>>()

  beforeAll(async () => {
    // All nodes share this process and its one thread: compile the training kernels once up front, or the first
    // round's trainers queue behind it and the last ones miss the publish deadline.
    const { tf } = await initTensorflow()
    const warm = new TrainingData({ dims: LIVE_FEATURE_NAMES.length })
    warm.seed(syntheticExamples(200, { seed: 1 }))
    trainLocal(
      tf,
      createMlp({ schema: LIVE_FEATURE_SCHEMA, featureNames: LIVE_FEATURE_NAMES }),
      warm.training(),
      {
        steps: 2,
        privacy: { clipNorm: 1, noiseMultiplier: 1, delta: 1e-5 },
      },
    )
    nodes = await Promise.all([
      startTestNode({ cli: learning() }),
      startTestNode({ cli: learning() }),
      startTestNode({ cli: learning() }),
      startTestNode({ cli: learning() }),
      startTestNode({ cli: learning({ privacy: { epsilonBudget: SMALL_BUDGET } }) }),
    ])
    for (let i = 0; i < nodes.length; i++) {
      for (let j = i + 1; j < nodes.length; j++) await nodes[i].dial(multiaddr(nodes[j].addresses()[0]))
    }
    // The honest members vouch for each other (as operators of one community would, reputation.trustedPeers):
    // model sync and fork healing follow trusted peers only. The hostile member stays a newcomer.
    for (const [i, a] of nodes.entries()) {
      for (const [j, b] of nodes.entries()) {
        if (i !== j && i !== HOSTILE && j !== HOSTILE) await a.reputation.pin(b.peerId, 'trusted')
      }
    }
    await waitFor(
      () =>
        nodes.every((n) => n.host.services.pubsub.getSubscribers(TOPICS.models).length === nodes.length - 1),
      30_000,
      'every node to see the others on the models topic',
    )
    // what each node sends, per round: the honest deltas as trained, the hostile one after its sign flip
    nodes.forEach((n, i) =>
      n.learning.setUpdateTransform((delta) => {
        const out = i === HOSTILE ? delta.map((v) => -10 * v) : delta
        const round = n.learning.status().round
        if (!sent.has(round)) sent.set(round, new Map())
        sent.get(round)!.set(i, Float32Array.from(out))
        return out
      }),
    )
    nodes.forEach((n, i) => {
      records.push(new Map())
      n.learning.onAggregation((r) => records[i].set(r.round, r))
    })
  }, 60_000)

  afterAll(async () => {
    await stopAndRemove(...nodes)
  })

  it('all nodes start from the same seeded model', () => {
    const hashes = new Set(nodes.map((n) => n.learning.modelHash))
    expect(hashes.size).toBe(1)
  })

  it(
    'runs two rounds to the same model on every node, outvotes a poisoned update, and respects budgets',
    async () => {
      const initial = nodes[0].learning.modelHash
      // seed right after a close, so every node has its data before the next round trains
      await new Promise<void>((resolve) => {
        const off = nodes[0].learning.onAggregation(() => {
          off()
          resolve()
        })
      })
      // A node that adopted its second round stops contributing right at that close: the next round then has no
      // updates however long the checks below take on a busy machine (one did: its gate turned down a third
      // round's model, and the next test found the federation's model ahead of the adopted one). Node 4's budget
      // stops it anyway; switching it off would hide that.
      const adopted = nodes.map(() => 0)
      const switchedOff: Promise<void>[] = []
      nodes.forEach((n, i) => {
        if (i === 4) return
        const off = n.learning.onAggregation((r) => {
          if (r.outcome !== 'adopted' || ++adopted[i] < 2) return
          off()
          switchedOff.push(n.learning.setContributing(false))
        })
      })
      nodes.forEach((n, i) =>
        n.learning.data.seed(syntheticExamples(600, { seed: 11 + i, keyPrefix: `node${i}` })),
      )
      const adoptedRounds = () =>
        [...records[0].values()].filter((r) => r.outcome === 'adopted').map((r) => r.round)
      const started = Date.now()
      await waitFor(
        () => adoptedRounds().length >= 2 && nodes.every((_, i) => records[i].has(adoptedRounds()[1])),
        5 * ROUND_MS,
        'two adopted rounds',
      )
      const elapsed = Date.now() - started
      const [first, second] = adoptedRounds()
      expect(second).toBe(first + 1)

      for (const round of [first, second]) {
        const perNode = nodes.map((_, i) => records[i].get(round)!)
        // every node adopted, and all adopted the same model
        expect(
          perNode.map((r) => r.outcome),
          JSON.stringify(
            perNode.map((r) => [
              r.outcome,
              r.participants.length,
              r.modelHash?.slice(0, 8),
              r.gate?.reason,
              r.error,
            ]),
          ),
        ).toEqual(Array(nodes.length).fill('adopted'))
        expect(
          new Set(perNode.map((r) => r.modelHash)).size,
          JSON.stringify(
            perNode.map((r) => [
              r.outcome,
              r.participants.map((p) => p.peerId.slice(-4)),
              r.modelHash?.slice(0, 8),
              r.at,
            ]),
          ),
        ).toBe(1)
        expect(perNode.every((r) => r.gate?.decision === 'accept')).toBe(true)
        // The hostile update took part and lost: the adopted step goes the honest way, while a plain mean of the
        // same updates would have gone the attacker's way.
        expect(perNode[0].participants.map((p) => p.peerId)).toContain(nodes[HOSTILE].peerId)
        const adopted = await weightsOf(nodes[0], perNode[0].modelHash!)
        const parent = await weightsOf(nodes[0], perNode[0].baseHash)
        const step = adopted.map((w, k) => w - parent[k])
        const updates = [...sent.get(round)!.entries()]
        const honest = updates.filter(([i]) => i !== HOSTILE).map(([, d]) => d)
        const honestMean = honest[0].map((_, k) => honest.reduce((sum, d) => sum + d[k], 0) / honest.length)
        const plainMean = honestMean.map(
          (_, k) => updates.reduce((sum, [, d]) => sum + d[k], 0) / updates.length,
        )
        const poison = sent.get(round)!.get(HOSTILE)!
        const honestWay = cosine(step, honestMean)
        const attackerWay = cosine(step, poison)
        const plainMeanAttackerWay = cosine(plainMean, poison)
        console.log(
          `round ${round}: cos(adopted step, honest mean) ${honestWay.toFixed(2)}, ` +
            `cos(adopted step, poison) ${attackerWay.toFixed(2)}, cos(plain mean, poison) ${plainMeanAttackerWay.toFixed(2)}`,
        )
        expect(honestWay).toBeGreaterThan(0.5)
        expect(attackerWay).toBeLessThan(honestWay - 0.4)
        expect(plainMeanAttackerWay).toBeGreaterThan(0.9)
      }
      // node 4 could afford one round, not two; it still adopted both
      expect(records[0].get(first)!.participants.map((p) => p.peerId)).toContain(nodes[4].peerId)
      expect(records[0].get(second)!.participants.map((p) => p.peerId)).not.toContain(nodes[4].peerId)
      const small = nodes[4].learning.status()
      expect(small.contributionState).toBe('budget-exhausted')
      expect(small.contributing).toBe(false)
      expect(small.epsilonSpent).toBeGreaterThan(0)
      expect(small.epsilonSpent).toBeLessThanOrEqual(SMALL_BUDGET)
      expect(nodes[4].learning.modelHash).toBe(records[0].get(second)!.modelHash)

      // the federated model learned the rule despite the attacker: better than the initial one on unseen data
      const holdout = new TrainingData({ dims: LIVE_FEATURE_NAMES.length, validationFraction: 0.5 })
      holdout.seed(syntheticExamples(1000, { seed: 999, keyPrefix: 'holdout' }))
      const unseen = holdout.training()
      const start = createMlp({ schema: LIVE_FEATURE_SCHEMA, featureNames: LIVE_FEATURE_NAMES, seed: 0x5eed })
      const before = evaluate(start, unseen)
      const after = evaluate(nodes[0].learning.model, unseen)
      // ROC-AUC, not loss or F1: two DP rounds from a random start rank windows well before they are calibrated
      expect(before.rocAuc).toBeLessThan(0.6)
      expect(after.rocAuc).toBeGreaterThan(0.8)
      expect(nodes[0].learning.modelHash).not.toBe(initial)

      // status and the API agree
      expect(switchedOff).toHaveLength(4)
      await Promise.all(switchedOff)
      const status = await nodes[1].status()
      expect(status.learning).toMatchObject({
        modelHash: nodes[0].learning.modelHash,
        contributing: false,
        epsilonBudget: 1000,
      })
      const res = await api(nodes[1], '/api/ml/federation/status')
      expect(res.status).toBe(200)
      expect(res.body.modelHash).toBe(nodes[0].learning.modelHash)
      console.log(`two federated rounds in ${elapsed} ms (round ${ROUND_MS} ms)`)
    },
    8 * ROUND_MS + 60_000,
  )
  it(
    'serves the model over the API: predictions, explanations, history, rollback and sync from peers',
    async () => {
      for (const n of nodes) {
        const res = await api(n, '/api/ml/federation/contribute', {
          method: 'POST',
          json: { contributing: false },
        })
        expect(res.status).toBe(200)
        expect(res.body.contributing).toBe(false)
      }
      // once a round closed with nothing to aggregate, the models stand still
      const quiet = await new Promise<AggregationRecord>((resolve) => {
        const off = nodes[0].learning.onAggregation((r) => {
          if (r.outcome === 'no-updates') {
            off()
            resolve(r)
          }
        })
      })
      const global = nodes[0].learning.modelHash
      expect(quiet.baseHash).toBe(global)

      const models = await api(nodes[0], '/api/ml/models')
      expect(models.status).toBe(200)
      expect(models.body.current).toBe(global)
      const current = models.body.items.find((m: { id: string }) => m.id === global)
      expect(current).toMatchObject({ source: 'federated', current: true, gate: { decision: 'accept' } })
      expect((await api(nodes[0], `/api/ml/models/${global}`)).body.weights.encoding).toBe('f32')
      expect((await api(nodes[0], `/api/ml/models/${'0'.repeat(64)}`)).status).toBe(404)

      const attack = syntheticExamples(200, { seed: 5 }).find((e) => e.label === 1)!.features
      const benign = syntheticExamples(200, { seed: 5 }).find((e) => e.label === 0)!.features
      const p1 = await api(nodes[0], '/api/ml/predict', { method: 'POST', json: { features: attack } })
      expect(p1.status).toBe(200)
      expect(p1.body.modelHash).toBe(global)
      const byName = Object.fromEntries(LIVE_FEATURE_NAMES.map((name, i) => [name, attack[i]]))
      const p2 = await api(nodes[0], '/api/ml/predict', { method: 'POST', json: { features: byName } })
      expect(p2.body.score).toBeCloseTo(p1.body.score, 6)
      const batch = await api(nodes[0], '/api/ml/batch-predict', {
        method: 'POST',
        json: { items: [attack, benign] },
      })
      expect(batch.body.results[0].score).toBeGreaterThan(batch.body.results[1].score)
      const bad = await api(nodes[0], '/api/ml/predict', { method: 'POST', json: { features: [1, 2, 3] } })
      expect(bad.status).toBe(400)
      expect(
        (await api(nodes[0], '/api/ml/predict', { method: 'POST', json: { ip: '192.0.2.1' } })).status,
      ).toBe(404)
      const why = await api(nodes[0], '/api/ml/explain', {
        method: 'POST',
        json: { features: attack, top: 3 },
      })
      expect(why.body.contributions).toHaveLength(3)
      expect(LIVE_FEATURE_NAMES).toContain(why.body.contributions[0].feature)

      const perf = await api(nodes[0], '/api/ml/performance')
      expect(perf.body.history.length).toBeGreaterThanOrEqual(2)
      expect(perf.body.current.rocAuc).toBeGreaterThan(0.7)
      const peers = await api(nodes[0], '/api/ml/federation/peers')
      const hostile = peers.body.items.find((p: { peerId: string }) => p.peerId === nodes[HOSTILE].peerId)
      // a newcomer nobody vouched for: its updates take part (the median ignores weights), its word on sync does not
      expect(hostile.trust).toBeLessThan(0.1)
      expect(hostile.accepted).toBeGreaterThanOrEqual(2)

      // a node that rolled back to the initial model catches up from its peers
      const initial = (await nodes[2].learning.registry.list()).find((m) => m.source === 'initial')!.id
      const back = await api(nodes[2], `/api/ml/models/${initial}/rollback`, { method: 'POST' })
      expect(back.status).toBe(200)
      expect(nodes[2].learning.modelHash).toBe(initial)
      const sync = await api(nodes[2], '/api/ml/federation/sync', { method: 'POST', json: {} })
      expect(sync.status).toBe(200)
      expect(sync.body).toMatchObject({ outcome: 'adopted', modelHash: global })
      // the honest members it trusts agree (up to 3 trusted voices); the hostile one adds at most a newcomer's weight
      expect(sync.body.candidates[0]).toMatchObject({ modelHash: global })
      expect(sync.body.candidates[0].trustedPeers).toBeGreaterThanOrEqual(1)
      expect(nodes[2].learning.modelHash).toBe(global)
      expect(
        (await api(nodes[2], '/api/ml/federation/sync', { method: 'POST', json: {} })).body.outcome,
      ).toBe('up-to-date')

      // local, non-federated training goes through the same gate
      const trained = await api(nodes[1], '/api/ml/train', { method: 'POST', json: { epochs: 2 } })
      expect(trained.status).toBe(200)
      expect(['accept', 'reject']).toContain(trained.body.gate.decision)
      expect(trained.body.adopted).toBe(trained.body.gate.decision === 'accept')
    },
    3 * ROUND_MS + 60_000,
  )
})
