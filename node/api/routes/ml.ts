import { Hono } from 'hono'
import { z } from 'zod'
import { FEATURE_SCHEMA } from '../../detect/features/feature-schema.ts'
import type { FederationService } from '../../learning/federation/federation-service.ts'
import { raising } from '../../learning/federation/model-detector.ts'
import { explainOcclusion } from '../../learning/model/explain.ts'
import type { ModelSummary, ModelVersion } from '../../learning/registry/model-registry.ts'
import { apiError } from '../errors.ts'
import { doc } from '../openapi/route-doc.ts'
import { jsonBody, pathParams } from '../validate.ts'

const NAMES: readonly string[] = FEATURE_SCHEMA.names
const MAX_BATCH = 1000

const Vector = z.union([
  z.array(z.number().finite()).length(NAMES.length, `an array of ${NAMES.length} numbers in schema order`),
  z.record(z.string(), z.number().finite()).refine((r) => Object.keys(r).every((k) => NAMES.includes(k)), {
    message: `unknown feature name; known: ${NAMES.join(', ')}`,
  }),
])
type VectorInput = z.infer<typeof Vector>

/** a feature vector (array in schema order, or by name with the rest 0) or an address whose latest window to use */
const Subject = z
  .object({ features: Vector.optional(), ip: z.string().min(2).max(64).optional() })
  .strict()
  .refine((b) => (b.features === undefined) !== (b.ip === undefined), {
    message: 'give exactly one of "features" or "ip"',
  })

const ExplainBody = z
  .object({
    features: Vector.optional(),
    ip: z.string().min(2).max(64).optional(),
    top: z.number().int().min(1).max(NAMES.length).optional(),
  })
  .strict()
  .refine((b) => (b.features === undefined) !== (b.ip === undefined), {
    message: 'give exactly one of "features" or "ip"',
  })

const BatchBody = z.object({ items: z.array(Vector).min(1).max(MAX_BATCH) }).strict()

const ModelId = z.object({ id: z.string().regex(/^[0-9a-f]{64}$/, 'a 64-character hex model hash') })

const TrainBody = z
  .object({
    epochs: z.number().positive().max(50).optional(),
    learningRate: z.number().positive().max(10).optional(),
  })
  .strict()

const SyncBody = z.object({ force: z.boolean().optional() }).strict()

const ContributeBody = z
  .object({
    contributing: z.boolean().optional(),
    budget: z
      .object({ epsilon: z.number().positive().max(1e6) })
      .strict()
      .optional(),
  })
  .strict()
  .refine((b) => b.contributing !== undefined || b.budget !== undefined, {
    message: 'give "contributing" or "budget"',
  })

function toVector(v: VectorInput): number[] {
  if (Array.isArray(v)) return v
  return NAMES.map((name) => v[name] ?? 0)
}

function modelView(m: ModelSummary | ModelVersion, currentId: string | undefined) {
  const { id, parent, round, metrics, createdAt, adoptedAt, source, gate } = m
  return {
    id,
    parent,
    round,
    source,
    metrics,
    gate: gate ?? null,
    current: id === currentId,
    createdAt: new Date(createdAt).toISOString(),
    adoptedAt: adoptedAt !== undefined ? new Date(adoptedAt).toISOString() : null,
  }
}

/**
 * The learned detector and its federation, under `/api/ml`. `learning` is looked up per request so the routes
 * answer 503 (instead of the app failing to build) when learning is switched off.
 */
export function mlRoutes(node: { readonly learning: FederationService }): Hono {
  const service = (): FederationService => {
    try {
      return node.learning
    } catch {
      throw apiError(503, 'federated learning is not running on this node (learning.enabled)')
    }
  }
  const vectorOf = (learning: FederationService, body: { features?: VectorInput; ip?: string }) => {
    if (body.features !== undefined) return { x: toVector(body.features), window: null }
    const w = learning.detector.recentWindow(body.ip!)
    if (w === undefined) throw apiError(404, `no recent closed window for ${body.ip}`, 'ip')
    return {
      x: Array.from(w.features),
      window: {
        ip: w.ip,
        start: new Date(w.start).toISOString(),
        end: new Date(w.end).toISOString(),
        events: w.events,
        service: w.service,
      },
    }
  }

  return new Hono()
    .get('/models', doc({ summary: 'Model versions, newest first, and which one is current' }), async (c) => {
      const learning = service()
      const current = learning.registry.currentId
      const items = await learning.registry.list()
      return c.json({ current: current ?? null, items: items.map((m) => modelView(m, current)) })
    })
    .get(
      '/models/:id',
      doc({ summary: 'One model version: lineage, metrics, gate decision, weight format' }),
      pathParams(ModelId),
      async (c) => {
        const learning = service()
        const { id } = c.req.valid('param')
        const m = await learning.registry.get(id)
        if (m === undefined) throw apiError(404, `no model ${id}`)
        return c.json({
          ...modelView(m, learning.registry.currentId),
          weights: { encoding: m.weights.encoding, shapes: m.weights.shapes, bytes: m.weights.data.length },
        })
      },
    )
    .post(
      '/models/:id/rollback',
      doc({ summary: 'Go back to an earlier adopted model (admin)' }),
      pathParams(ModelId),
      async (c) => {
        const learning = service()
        const { id } = c.req.valid('param')
        try {
          const m = await learning.rollback(id)
          return c.json(modelView(m, learning.registry.currentId))
        } catch (err) {
          const e = err as Error
          if (e.name === 'ModelNotFoundError') throw apiError(404, e.message)
          if (e.name === 'InvalidRollbackError' || e.name === 'FederationMismatchError')
            throw apiError(409, e.message)
          throw err
        }
      },
    )
    .post(
      '/predict',
      doc({ summary: 'Score one feature vector, by array or by name, or the latest window of an address' }),
      jsonBody(Subject),
      (c) => {
        const learning = service()
        const { x, window } = vectorOf(learning, c.req.valid('json'))
        const score = learning.predict(x)
        const threshold = learning.detector.init.threshold
        // `provisional`: the model has not validated on this node's labelled data, so as a detector its findings
        // are capped below a ban (the raw score is shown here)
        return c.json({
          score,
          attack: score >= threshold,
          threshold,
          modelHash: learning.modelHash,
          provisional: learning.detector.provisional,
          window,
        })
      },
    )
    .post(
      '/batch-predict',
      doc({ summary: `Score up to ${MAX_BATCH} feature vectors` }),
      jsonBody(BatchBody),
      (c) => {
        const learning = service()
        const { items } = c.req.valid('json')
        const threshold = learning.detector.init.threshold
        const scores = items.map((v) => learning.predict(toVector(v)))
        return c.json({
          modelHash: learning.modelHash,
          threshold,
          results: scores.map((score) => ({ score, attack: score >= threshold })),
        })
      },
    )
    .post(
      '/explain',
      doc({ summary: 'Score a vector and name the features behind the score (occlusion)' }),
      jsonBody(ExplainBody),
      (c) => {
        const learning = service()
        const body = c.req.valid('json')
        const { x, window } = vectorOf(learning, body)
        const model = learning.model
        const score = learning.predict(x)
        const top = body.top ?? 5
        const all = explainOcclusion(model, x)
        const contributions = all.slice(0, top).map((k) => ({ ...k, value: x[NAMES.indexOf(k.feature)] }))
        return c.json({
          score,
          modelHash: learning.modelHash,
          method: 'occlusion: score minus the score with the feature at its training mean',
          contributions,
          raising: raising(all, top).map((k) => k.feature),
          window,
        })
      },
    )
    .get(
      '/performance',
      doc({
        summary: 'Validation precision, recall, F1, ROC-AUC and FPR of the current model and over time',
      }),
      (c) => c.json(service().performance()),
    )
    .post(
      '/train',
      doc({
        summary:
          'Train on local data now (not federated, not private: the model stays on this node, never announced or served); adopted if the gate passes (admin)',
      }),
      jsonBody(TrainBody),
      async (c) => {
        const learning = service()
        try {
          return c.json(await learning.trainNow(c.req.valid('json')))
        } catch (err) {
          if ((err as Error).name === 'NotEnoughDataError') throw apiError(409, (err as Error).message)
          if ((err as Error).name === 'TrainingUnavailableError') throw apiError(503, (err as Error).message)
          throw err
        }
      },
    )
    .get(
      '/federation/status',
      doc({ summary: 'Round, phase, participants, privacy spent and left, gate decisions, backend' }),
      (c) => c.json(service().status()),
    )
    .post(
      '/federation/sync',
      doc({
        summary:
          'Fetch the current global model from peers: the one the peers this node trusts agree on (trust-weighted, fresh identities together weigh one newcomer; rounds must fit the round clock; hash-verified), gated unless force (admin: force adopts the best-supported answer even without agreement, for detection only)',
      }),
      jsonBody(SyncBody),
      async (c) => {
        const learning = service()
        return c.json(await learning.sync(c.req.valid('json')))
      },
    )
    .get(
      '/federation/peers',
      doc({ summary: 'Federation participants: last round, trust, accepted and rejected updates' }),
      (c) => c.json({ items: service().peers() }),
    )
    .post(
      '/federation/contribute',
      doc({ summary: 'Switch contributing on or off, or set the lifetime epsilon budget (admin)' }),
      jsonBody(ContributeBody),
      async (c) => {
        const learning = service()
        const { contributing, budget } = c.req.valid('json')
        if (budget !== undefined) await learning.setBudget(budget.epsilon)
        if (contributing !== undefined) await learning.setContributing(contributing)
        const s = learning.status()
        return c.json({
          contributing: s.contributing,
          contributionState: s.contributionState,
          epsilonSpent: s.epsilonSpent,
          epsilonBudget: s.epsilonBudget,
          epsilonLeft: s.epsilonLeft,
        })
      },
    )
}
