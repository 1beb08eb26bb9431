/**
 * Labelled examples from this node's own traffic, for federated training and for the gate. A closed per-address
 * window (the live feature schema) is an attack example when the address earned a confident decision from the
 * rule-based scenario detector or a community block, or an admin confirmed it; it is a benign example when
 * nothing was said about the address for `labelDelayMs` after the window closed (a sample of those: benign
 * traffic dwarfs attacks), or an admin marked its alert false. The model's own findings never label anything:
 * a model that taught itself would only grow more sure of its own mistakes.
 *
 * Each class is a bounded reservoir (algorithm R), so memory stays fixed and old traffic slowly gives way. A
 * stable hash of the address puts each address either in training or in validation, never in both: the gate must
 * judge a model on addresses it did not learn from.
 */
import { mulberry32, type Prng } from '../../detect/features/prng.ts'
import { DimensionMismatchError } from '../model/model-errors.ts'
import { hashString } from '../../detect/features/string-hash.ts'

export type ExampleLabel = 0 | 1
export const EXAMPLE_SOURCES = ['decision', 'community', 'feedback', 'benign', 'seed'] as const
export type ExampleSource = (typeof EXAMPLE_SOURCES)[number]

export interface LabelledExample {
  features: Float32Array
  label: ExampleLabel
  /** what the train/validation split hashes: the address, or a caller's key for seeded examples */
  key: string
  source: ExampleSource
}

/** What the labeller needs of a closed window (`ClosedWindow` from the window aggregator fits). */
export interface WindowLike {
  ip: string
  end: number
  features: ArrayLike<number>
}

/** What the labeller needs of a decision (`Decision` from the ensemble fits). */
export interface DecisionLike {
  ip: string
  confidence: number
  detectors: readonly string[]
}

export interface TrainingDataInit {
  dims: number
  /** training examples kept per class; validation keeps its share on top */
  perClass: number
  /** share of addresses held out for validation */
  validationFraction: number
  /** share of unlabelled windows kept as benign examples */
  benignSampleRate: number
  /** a window waits this long for a decision about its address before it counts as benign */
  labelDelayMs: number
  /** an address stays labelled (attack or benign by feedback) this long after the evidence */
  labelMemoryMs: number
  /** windows waiting for a label; the oldest are labelled early beyond it */
  maxPending: number
  /** addresses with a remembered label; the least recently marked are forgotten first */
  maxMarked: number
  /** only decisions at least this confident, with a rule-based detector among their sources, label attacks */
  minDecisionConfidence: number
  /** detectors whose decisions may label examples */
  labellingDetectors: readonly string[]
  seed: number
}

export const DEFAULT_TRAINING_DATA_INIT: Omit<TrainingDataInit, 'dims'> = {
  perClass: 2000,
  validationFraction: 0.2,
  benignSampleRate: 0.25,
  labelDelayMs: 5 * 60_000,
  labelMemoryMs: 30 * 60_000,
  maxPending: 20_000,
  maxMarked: 50_000,
  minDecisionConfidence: 0.8,
  labellingDetectors: ['scenario'],
  seed: 0x7a1d,
}

export class InvalidTrainingDataError extends Error {
  override name = 'InvalidTrainingDataError'
}

/**
 * FNV-1a over UTF-16 code units, then MurmurHash3's finaliser (FNV alone mixes the last characters poorly into
 * the high bits, and addresses differ mostly at the end). Stable across nodes and restarts, which is all the
 * split needs; uniform in [0, 1).
 */
export function splitHash(key: string): number {
  return hashString(key) / 4294967296
}

export function isValidationKey(key: string, validationFraction: number): boolean {
  return splitHash('shieldwall/split/1:' + key) < validationFraction
}

class ExampleReservoir {
  readonly capacity: number
  readonly items: LabelledExample[] = []
  #seen = 0
  readonly #rand: Prng

  constructor(capacity: number, rand: Prng) {
    this.capacity = capacity
    this.#rand = rand
  }

  add(example: LabelledExample): void {
    this.#seen++
    if (this.items.length < this.capacity) {
      this.items.push(example)
      return
    }
    const j = Math.floor(this.#rand() * this.#seen)
    if (j < this.capacity) this.items[j] = example
  }

  /** removes and returns every example with this key */
  take(key: string): LabelledExample[] {
    const taken: LabelledExample[] = []
    for (let i = this.items.length - 1; i >= 0; i--) {
      if (this.items[i].key === key) taken.push(...this.items.splice(i, 1))
    }
    return taken
  }
}

export interface Dataset {
  /** row-major n x dims */
  x: Float32Array
  y: Float32Array
}

export interface TrainingDataCounts {
  training: { positive: number; negative: number }
  validation: { positive: number; negative: number }
  pending: number
  marked: number
}

interface Pending {
  key: string
  features: Float32Array
  due: number
}

export class TrainingData {
  readonly init: TrainingDataInit
  readonly #rand: Prng
  /** [validation][label] */
  readonly #sets: ExampleReservoir[][]
  #pending: Pending[] = []
  readonly #marked = new Map<string, { label: ExampleLabel; until: number; source: ExampleSource }>()

  constructor(init: Partial<TrainingDataInit> & { dims: number }) {
    this.init = { ...DEFAULT_TRAINING_DATA_INIT, ...init }
    const { dims, perClass, validationFraction, benignSampleRate } = this.init
    if (!(Number.isSafeInteger(dims) && dims > 0) || !(Number.isSafeInteger(perClass) && perClass > 0)) {
      throw new InvalidTrainingDataError('dims and perClass must be positive integers')
    }
    if (
      !(validationFraction > 0 && validationFraction < 1) ||
      !(benignSampleRate >= 0 && benignSampleRate <= 1)
    ) {
      throw new InvalidTrainingDataError('validationFraction must be in (0, 1), benignSampleRate in [0, 1]')
    }
    this.#rand = mulberry32(this.init.seed)
    const validationCapacity = Math.max(
      1,
      Math.ceil((perClass * validationFraction) / (1 - validationFraction)),
    )
    this.#sets = [
      [new ExampleReservoir(perClass, this.#rand), new ExampleReservoir(perClass, this.#rand)],
      [
        new ExampleReservoir(validationCapacity, this.#rand),
        new ExampleReservoir(validationCapacity, this.#rand),
      ],
    ]
  }

  /** A closed window: labelled now when its address is marked, otherwise held until `labelDelayMs` passed. */
  observeWindow(window: WindowLike, now: number): void {
    const features = this.#copy(window.features)
    const mark = this.#markOf(window.ip, now)
    if (mark !== undefined) {
      this.#add({ features, label: mark.label, key: window.ip, source: mark.source })
      return
    }
    this.#pending.push({ key: window.ip, features, due: Math.max(now, window.end) + this.init.labelDelayMs })
    if (this.#pending.length > this.init.maxPending)
      this.#settle(this.#pending.splice(0, this.#pending.length >> 4))
  }

  /** A decision of the ensemble: labels the address as attacking when a rule-based detector was behind it. */
  observeDecision(decision: DecisionLike, now: number): boolean {
    if (decision.confidence < this.init.minDecisionConfidence) return false
    if (!decision.detectors.some((d) => this.init.labellingDetectors.includes(d))) return false
    this.mark(decision.ip, 1, 'decision', now)
    return true
  }

  /** A block the community agreed on (the blocklist's `community` origin). */
  observeCommunityBlock(ip: string, now: number): void {
    this.mark(ip, 1, 'community', now)
  }

  /** An admin's verdict on an alert about `ip`: confirmed attack, or a false positive. Relabels what is kept. */
  feedback(ip: string, verdict: 'confirmed' | 'false', now: number): number {
    const label: ExampleLabel = verdict === 'confirmed' ? 1 : 0
    let moved = 0
    for (const sets of this.#sets) {
      for (const set of sets) {
        for (const e of set.take(ip)) {
          this.#add({ ...e, label, source: 'feedback' })
          moved++
        }
      }
    }
    this.mark(ip, label, 'feedback', now)
    return moved
  }

  /** Remembers a label for `ip` and applies it to its windows still waiting. */
  mark(ip: string, label: ExampleLabel, source: ExampleSource, now: number): void {
    const existing = this.#marked.get(ip)
    // an admin's word outlasts the detectors'
    if (existing?.source === 'feedback' && source !== 'feedback' && existing.until > now) return
    this.#marked.delete(ip)
    this.#marked.set(ip, { label, until: now + this.init.labelMemoryMs, source })
    if (this.#marked.size > this.init.maxMarked) {
      const oldest = this.#marked.keys().next().value
      if (oldest !== undefined) this.#marked.delete(oldest)
    }
    const waiting = this.#pending.filter((p) => p.key === ip)
    if (waiting.length === 0) return
    this.#pending = this.#pending.filter((p) => p.key !== ip)
    for (const p of waiting) this.#add({ features: p.features, label, key: ip, source })
  }

  /** Windows whose wait is over become benign examples (sampled). Call as time passes. */
  flush(now: number): void {
    let i = 0
    while (i < this.#pending.length && this.#pending[i].due <= now) i++
    if (i > 0) this.#settle(this.#pending.splice(0, i))
  }

  /** Examples from elsewhere (tests, the simulator, a public data set), split by `key` like live ones. */
  seed(examples: Iterable<{ features: ArrayLike<number>; label: number; key?: string }>): number {
    let n = 0
    for (const e of examples) {
      const label: ExampleLabel = e.label === 1 ? 1 : 0
      this.#add({ features: this.#copy(e.features), label, key: e.key ?? `seed:${n}`, source: 'seed' })
      n++
    }
    return n
  }

  training(): Dataset {
    return this.#dataset(this.#sets[0])
  }

  validation(): Dataset {
    return this.#dataset(this.#sets[1])
  }

  counts(): TrainingDataCounts {
    const [t, v] = this.#sets
    return {
      training: { positive: t[1].items.length, negative: t[0].items.length },
      validation: { positive: v[1].items.length, negative: v[0].items.length },
      pending: this.#pending.length,
      marked: this.#marked.size,
    }
  }

  #settle(due: Pending[]): void {
    for (const p of due) {
      if (this.#rand() < this.init.benignSampleRate) {
        this.#add({ features: p.features, label: 0, key: p.key, source: 'benign' })
      }
    }
  }

  #markOf(ip: string, now: number) {
    const mark = this.#marked.get(ip)
    if (mark === undefined) return undefined
    if (mark.until <= now) {
      this.#marked.delete(ip)
      return undefined
    }
    return mark
  }

  #add(example: LabelledExample): void {
    const validation = isValidationKey(example.key, this.init.validationFraction) ? 1 : 0
    this.#sets[validation][example.label].add(example)
  }

  #copy(features: ArrayLike<number>): Float32Array {
    if (features.length !== this.init.dims) {
      throw new DimensionMismatchError(`an example needs ${this.init.dims} features, got ${features.length}`)
    }
    const out = Float32Array.from(features)
    for (let i = 0; i < out.length; i++) {
      if (!Number.isFinite(out[i])) throw new InvalidTrainingDataError(`feature ${i} is not finite`)
    }
    return out
  }

  #dataset(sets: ExampleReservoir[]): Dataset {
    // positives then negatives, each in reservoir order: deterministic for a given history
    const all = [...sets[1].items, ...sets[0].items]
    const d = this.init.dims
    const x = new Float32Array(all.length * d)
    const y = new Float32Array(all.length)
    all.forEach((e, i) => {
      x.set(e.features, i * d)
      y[i] = e.label
    })
    return { x, y }
  }
}
