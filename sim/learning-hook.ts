import { initTensorflow } from '../node/learning/backend.ts'
import { trainLocal } from '../node/learning/dp/local-training.ts'
import { NSL_KDD_FEATURE_NAMES, NSL_KDD_SCHEMA } from '../node/learning/data/nsl-kdd-schema.ts'
import { createMlp } from '../node/learning/model/mlp.ts'
import { runFederatedRounds } from './learning/federated-run.ts'
import {
  learningNodeConfig,
  type LearningOutcome,
  type LearningRound,
  type LearningSpec,
  type LearningSummary,
} from './learning/learning-spec.ts'
import { flData, type FlData } from './learning/nsl-kdd-shards.ts'
import { round3 } from './metrics/measurements.ts'
import { SimNetwork } from './network.ts'

export type { LearningOutcome, LearningRound, LearningSummary } from './learning/learning-spec.ts'

/** the robust model must stay this far ahead of the baseline when the baseline's gates let it through */
const CONTAINED_GAP = 0.1

/**
 * Runs `spec.rounds` federated rounds on the scenario's network (its nodes run `spec.rule`; hostile members
 * poison), then, with `spec.baselineRule`, the same rounds on a fresh identical network running the baseline,
 * while the first network stops contributing. Every round's model is scored on KDDTest+ by the harness.
 */
export async function runLearningRounds(network: SimNetwork, spec: LearningSpec): Promise<LearningOutcome> {
  const { tf } = await initTensorflow()
  const poisoners = network.members.filter((m) => m.role === 'hostile').map((m) => m.index)
  const data = await flData({
    members: network.members.length,
    poisoners,
    examplesPerMember: spec.examplesPerMember,
    ...(spec.testExamples !== undefined ? { testExamples: spec.testExamples } : {}),
    seed: network.init.seed,
    ...(spec.dataDir !== undefined ? { dir: spec.dataDir } : {}),
  })
  warmUpKernels(tf, data)
  const poisonSet = new Set(poisoners)
  const robust = await runFederatedRounds({ network, spec, rule: spec.rule, data, poisoners: poisonSet, tf })
  // the scenario's network has done its part; it idles while the baseline trains
  await Promise.all(network.online().map((m) => m.node?.learning.setContributing(false)))

  let baseline: LearningRound[] = []
  if (spec.baselineRule !== undefined) {
    const second = new SimNetwork({
      ...network.init,
      // its own run directory and every member in this thread
      local: undefined,
      runDir: undefined,
      runId: undefined,
      // other identities, so the two networks' peers never mistake each other in this process
      seed: network.init.seed + 7919,
      learning: learningNodeConfig(spec, spec.baselineRule, true),
    })
    try {
      await second.create()
      await second.startAll()
      baseline = await runFederatedRounds({
        network: second,
        spec,
        rule: spec.baselineRule,
        data,
        poisoners: poisonSet,
        tf,
      })
    } finally {
      await second.destroy()
    }
  }
  return {
    rounds: [...robust, ...baseline],
    summary: summarize(spec, robust, baseline, network, data),
  }
}

/**
 * All nodes share this process's one thread: run the training kernels once before the first round, or the first
 * trainers queue behind the set-up and miss the publish deadline.
 */
function warmUpKernels(tf: Awaited<ReturnType<typeof initTensorflow>>['tf'], data: FlData): void {
  const share = data.shares.find((s) => s.y.length > 0)
  if (share === undefined) return
  const n = Math.min(128, share.y.length)
  trainLocal(
    tf,
    createMlp({ schema: NSL_KDD_SCHEMA, featureNames: NSL_KDD_FEATURE_NAMES }),
    { x: share.x.subarray(0, n * data.dims), y: share.y.subarray(0, n) },
    { steps: 2, privacy: { clipNorm: 1, noiseMultiplier: 1, delta: 1e-5 } },
  )
}

function summarize(
  spec: LearningSpec,
  robust: LearningRound[],
  baseline: LearningRound[],
  network: SimNetwork,
  data: FlData,
): LearningSummary {
  const final = robust.at(-1)?.accuracy ?? null
  const baseFinal = baseline.at(-1)?.accuracy ?? null
  const gap = final !== null && baseFinal !== null ? round3(final - baseFinal) : null
  const honestRounds = baseline.reduce((s, r) => s + r.honest, 0)
  const baseAdopted =
    baseline.length === 0 ? null : round3(baseline.reduce((s, r) => s + r.adopted, 0) / honestRounds)
  const all = [...robust, ...baseline]
  const maxEpsilon = robust.length === 0 ? null : Math.max(...robust.map((r) => r.epsilon))
  const complete = robust.length === spec.rounds
  return {
    rule: spec.rule,
    baselineRule: spec.baselineRule ?? null,
    rounds: robust.length,
    finalAccuracy: final,
    baselineFinalAccuracy: baseFinal,
    accuracyGap: gap,
    baselineAdoptedShare: baseAdopted,
    poisoningContained:
      gap === null ? null : gap >= CONTAINED_GAP || (baseAdopted !== null && baseAdopted === 0) ? 1 : 0,
    // a round that did not complete counts as a disagreement
    agreement:
      all.length === 0
        ? null
        : round3(
            all.filter((r) => r.agreed).length / (spec.rounds * (spec.baselineRule !== undefined ? 2 : 1)),
          ),
    adoptedAgreement:
      robust.length === 0 ? null : round3(robust.filter((r) => r.adopted === r.honest).length / spec.rounds),
    epsilonGrowth:
      complete && robust.length > 1
        ? round3((robust.at(-1) as LearningRound).epsilon - (robust[0] as LearningRound).epsilon)
        : null,
    maxEpsilon,
    epsilonBudget: spec.epsilonBudget,
    epsilonBudgetShare: maxEpsilon === null ? null : round3(maxEpsilon / spec.epsilonBudget),
    poisoners: network.members.filter((m) => m.role === 'hostile').map((m) => m.name),
    examplesPerMember: data.shares.map((s) => s.y.length),
    testExamples: data.test.y.length,
    ...(complete ? {} : { note: `${robust.length} of ${spec.rounds} rounds completed` }),
  }
}
