import { decodeWeights, type EncodedWeights } from '../codec/weights-codec.ts'
import { sortableNumber, type Store } from '../../store/open-store.ts'

export const MODEL_SOURCES = ['initial', 'local', 'federated'] as const
export type ModelSource = (typeof MODEL_SOURCES)[number]

/** The evaluation gate's verdict on a candidate model: why it may or may not replace the current one. */
export interface GateDecision {
  decision: 'accept' | 'reject'
  reason: string
}

export interface ModelVersion {
  /** modelHash of the weights, architecture and feature schema (hex SHA-256) */
  id: string
  /** the model this one was trained or aggregated from; null for an initial model */
  parent: string | null
  round: number
  metrics: Record<string, number>
  createdAt: number
  /** when it was last adopted; absent if it never was */
  adoptedAt?: number
  source: ModelSource
  weights: EncodedWeights
  gate?: GateDecision
}

export type ModelSummary = Omit<ModelVersion, 'weights'>
export type NewModelVersion = Omit<ModelVersion, 'adoptedAt'>

export interface Adoption {
  id: string
  at: number
  kind: 'adopt' | 'rollback'
  /** what was current before; null for the first adoption */
  previous: string | null
}

export interface ModelRegistryInit {
  /** versions kept besides the protected ones, newest first */
  retain: number
  /** the last this-many distinct adopted versions are never pruned, so there is always something to roll back to */
  retainAdopted: number
  /** adoption records kept */
  adoptionLog: number
}

export const DEFAULT_MODEL_REGISTRY_INIT: ModelRegistryInit = Object.freeze({
  retain: 10,
  retainAdopted: 3,
  adoptionLog: 1000,
})

export class ModelNotFoundError extends Error {
  override name = 'ModelNotFoundError'
}

/** The gate rejected this version, so it cannot be adopted. */
export class ModelGateRejectedError extends Error {
  override name = 'ModelGateRejectedError'
}

/** Rollback goes back to a version that was adopted before and is not the current one. */
export class InvalidRollbackError extends Error {
  override name = 'InvalidRollbackError'
}

export class InvalidModelVersionError extends Error {
  override name = 'InvalidModelVersionError'
}

const SEP = '!'
const VERSION = 'version' + SEP
const ORDER = 'order' + SEP
const ADOPTION = 'adoption' + SEP
const CURRENT = 'current'
const HASH = /^[0-9a-f]{64}$/

interface StoredWeights extends Omit<EncodedWeights, 'data'> {
  data: string
}

function toStored(version: ModelVersion): string {
  const { weights, ...rest } = version
  const data = Buffer.from(weights.data.buffer, weights.data.byteOffset, weights.data.byteLength)
  return JSON.stringify({ ...rest, weights: { ...weights, data: data.toString('base64') } })
}

function fromStored(raw: string): ModelVersion {
  const parsed = JSON.parse(raw) as Omit<ModelVersion, 'weights'> & { weights: StoredWeights }
  const data = new Uint8Array(Buffer.from(parsed.weights.data, 'base64'))
  return { ...parsed, weights: { ...parsed.weights, data } }
}

function summary(version: ModelVersion): ModelSummary {
  const { weights: _, ...rest } = version
  return rest
}

function assertNewVersion(v: NewModelVersion): void {
  const bad = (why: string) => new InvalidModelVersionError(`model version ${String(v?.id)}: ${why}`)
  if (v === null || typeof v !== 'object')
    throw new InvalidModelVersionError('a model version must be an object')
  if (typeof v.id !== 'string' || !HASH.test(v.id)) throw bad('id must be a 64-character hex model hash')
  if (v.parent !== null && (typeof v.parent !== 'string' || !HASH.test(v.parent))) throw bad('bad parent')
  if (!(Number.isSafeInteger(v.round) && v.round >= 0)) throw bad('round must be a non-negative integer')
  if (!(Number.isSafeInteger(v.createdAt) && v.createdAt >= 0)) throw bad('createdAt must be a timestamp')
  if (!MODEL_SOURCES.includes(v.source)) throw bad(`source must be one of ${MODEL_SOURCES.join(', ')}`)
  if (typeof v.metrics !== 'object' || v.metrics === null) throw bad('metrics must be an object')
  for (const [k, m] of Object.entries(v.metrics))
    if (!Number.isFinite(m)) throw bad(`metric ${k} is not finite`)
  if (
    v.gate !== undefined &&
    !(['accept', 'reject'].includes(v.gate.decision) && typeof v.gate.reason === 'string')
  ) {
    throw bad('gate must be { decision: accept | reject, reason }')
  }
  decodeWeights(v.weights) // throws ShapeMismatchError / InvalidEncodingError for weights we could never load
}

/**
 * The node's model versions: every candidate it trained or aggregated, which one is adopted, and every adoption
 * and rollback in order. Bounded: the newest `retain` versions plus the current and recently adopted ones.
 */
export class ModelRegistry {
  readonly #db
  readonly #init: ModelRegistryInit
  #seq = 0
  #adoptionSeq = 0
  #current: string | undefined
  #chain: Promise<unknown> = Promise.resolve()

  constructor(db: Store, init: Partial<ModelRegistryInit> = {}) {
    this.#db = db.sublevel<string, string>('model-registry', { valueEncoding: 'utf8' })
    this.#init = { ...DEFAULT_MODEL_REGISTRY_INIT, ...init }
    for (const [k, n] of Object.entries(this.#init)) {
      if (!(Number.isSafeInteger(n) && n >= 1))
        throw new InvalidModelVersionError(`${k} must be an integer >= 1`)
    }
  }

  async open(): Promise<void> {
    const lastKey = async (prefix: string) => {
      for await (const key of this.#db.keys({ gte: prefix, lt: prefix + '~', reverse: true, limit: 1 })) {
        return Number(key.slice(prefix.length, prefix.length + 16))
      }
      return -1
    }
    this.#seq = (await lastKey(ORDER)) + 1
    this.#adoptionSeq = (await lastKey(ADOPTION)) + 1
    this.#current = await this.#db.get(CURRENT)
  }

  /** id of the adopted version, if any */
  get currentId(): string | undefined {
    return this.#current
  }

  /** Stores a version. The id is a content hash, so storing the same id again keeps the first and returns it. */
  put(version: NewModelVersion): Promise<ModelVersion> {
    return this.#serial(async () => {
      assertNewVersion(version)
      const existing = await this.get(version.id)
      if (existing !== undefined) return existing
      const { id, parent, round, metrics, createdAt, source, weights, gate } = version
      const stored: ModelVersion = { id, parent, round, metrics: { ...metrics }, createdAt, source, weights }
      if (gate !== undefined) stored.gate = { decision: gate.decision, reason: gate.reason }
      await this.#db.batch([
        { type: 'put', key: VERSION + id, value: toStored(stored) },
        { type: 'put', key: ORDER + sortableNumber(this.#seq++) + SEP + id, value: id },
      ])
      await this.#prune()
      return stored
    })
  }

  /** Records the gate's verdict for a stored version (the gate may run after the version was stored). */
  recordGate(id: string, gate: GateDecision): Promise<ModelVersion> {
    return this.#serial(async () => {
      const version = await this.#require(id)
      version.gate = { decision: gate.decision, reason: gate.reason }
      await this.#db.put(VERSION + id, toStored(version))
      return version
    })
  }

  async get(id: string): Promise<ModelVersion | undefined> {
    if (typeof id !== 'string' || !HASH.test(id)) return undefined
    const raw = await this.#db.get(VERSION + id)
    return raw === undefined ? undefined : fromStored(raw)
  }

  async current(): Promise<ModelVersion | undefined> {
    return this.#current === undefined ? undefined : this.get(this.#current)
  }

  /** Every stored version without its weights, newest first. */
  async list(): Promise<ModelSummary[]> {
    const ids: string[] = []
    for await (const id of this.#db.values({ gte: ORDER, lt: ORDER + '~', reverse: true })) ids.push(id)
    const raws = await this.#db.getMany(ids.map((id) => VERSION + id))
    return raws.filter((r): r is string => r !== undefined).map((r) => summary(fromStored(r)))
  }

  /** Adoptions and rollbacks, oldest first. */
  async adoptions(): Promise<Adoption[]> {
    const out: Adoption[] = []
    for await (const raw of this.#db.values({ gte: ADOPTION, lt: ADOPTION + '~' })) out.push(JSON.parse(raw))
    return out
  }

  /** Makes `id` the current model. A version the gate rejected cannot be adopted. */
  adopt(id: string, now: number = Date.now()): Promise<ModelVersion> {
    return this.#serial(async () => {
      const version = await this.#require(id)
      if (version.gate?.decision === 'reject') {
        throw new ModelGateRejectedError(`model ${id} was rejected by the gate: ${version.gate.reason}`)
      }
      return this.#makeCurrent(version, 'adopt', now)
    })
  }

  /** Goes back to an earlier adopted version, recorded as a rollback (the gate is not consulted again). */
  rollback(id: string, now: number = Date.now()): Promise<ModelVersion> {
    return this.#serial(async () => {
      const version = await this.#require(id)
      if (version.adoptedAt === undefined) {
        throw new InvalidRollbackError(`model ${id} was never adopted; adopt it instead`)
      }
      if (id === this.#current) throw new InvalidRollbackError(`model ${id} is already the current model`)
      return this.#makeCurrent(version, 'rollback', now)
    })
  }

  async #makeCurrent(version: ModelVersion, kind: Adoption['kind'], now: number): Promise<ModelVersion> {
    const adoption: Adoption = { id: version.id, at: now, kind, previous: this.#current ?? null }
    const updated = { ...version, adoptedAt: now }
    await this.#db.batch([
      { type: 'put', key: VERSION + version.id, value: toStored(updated) },
      { type: 'put', key: CURRENT, value: version.id },
      { type: 'put', key: ADOPTION + sortableNumber(this.#adoptionSeq++), value: JSON.stringify(adoption) },
    ])
    this.#current = version.id
    await this.#prune()
    return updated
  }

  async #require(id: string): Promise<ModelVersion> {
    const version = await this.get(id)
    if (version === undefined) throw new ModelNotFoundError(`no model ${id} in the registry`)
    return version
  }

  async #prune(): Promise<void> {
    const adoptions = await this.adoptions()
    const keep = new Set<string>()
    if (this.#current !== undefined) keep.add(this.#current)
    const adopted = new Set<string>()
    for (let i = adoptions.length - 1; i >= 0 && adopted.size < this.#init.retainAdopted; i--) {
      adopted.add(adoptions[i].id)
    }
    for (const id of adopted) keep.add(id)
    const ops: { type: 'del'; key: string }[] = []
    let newer = 0
    for await (const [key, id] of this.#db.iterator({ gte: ORDER, lt: ORDER + '~', reverse: true })) {
      if (newer++ < this.#init.retain || keep.has(id)) continue
      ops.push({ type: 'del', key }, { type: 'del', key: VERSION + id })
    }
    const excessLog = adoptions.length - this.#init.adoptionLog
    if (excessLog > 0) {
      for await (const key of this.#db.keys({ gte: ADOPTION, lt: ADOPTION + '~', limit: excessLog })) {
        ops.push({ type: 'del', key })
      }
    }
    if (ops.length > 0) await this.#db.batch(ops)
  }

  #serial<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#chain.then(task)
    this.#chain = result.catch(() => undefined)
    return result
  }
}
