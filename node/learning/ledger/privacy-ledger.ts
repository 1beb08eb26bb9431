import {
  DEFAULT_ORDERS,
  DEFAULT_RDP_CONVERSION,
  InvalidPrivacyParameterError,
  composeRdp,
  epsilonFromRdp,
  type PrivacySpent,
  type RdpConversion,
} from '../../../crypto/privacy/index.ts'
import { sortableNumber, type Store } from '../../store/open-store.ts'

/** One round's DP-SGD run, as it is about to leave the node in a model update. */
export interface ContributionParams {
  round: number
  /** Poisson sampling rate q (batch size / local data set size) */
  sampleRate: number
  /** sigma: noise standard deviation over the clipping norm */
  noiseMultiplier: number
  steps: number
  /** the delta the update reports its epsilon at; the ledger's totals use the budget's delta */
  delta: number
}

export interface Contribution extends ContributionParams {
  reservedAt: number
}

export interface PrivacyBudget {
  epsilon: number
  delta: number
}

export interface PrivacyLedgerInit {
  budget: PrivacyBudget
  /** RDP to (epsilon, delta) conversion; Balle et al. 2020 (Opacus) unless given */
  method?: RdpConversion
  orders?: readonly number[]
  /** whether a fresh ledger contributes before the operator says anything; true unless given */
  contributingByDefault?: boolean
}

/** The next contribution would take the node past its budget; nothing was recorded. */
export class PrivacyBudgetExceededError extends Error {
  override name = 'PrivacyBudgetExceededError'
}

/** Used before open(): with no history loaded it would under-count what the node has spent. */
export class LedgerNotOpenError extends Error {
  override name = 'LedgerNotOpenError'
}

/** The operator switched contributing off; nothing was recorded. */
export class ContributionPausedError extends Error {
  override name = 'ContributionPausedError'
}

const SEP = '!'
const CONTRIBUTION_PREFIX = 'contribution' + SEP
const CONTRIBUTING_KEY = 'contributing'
/** fsync before resolving: a reservation that is not on disk has not happened, whatever the process did next. */
const DURABLE = { sync: true } as const

/**
 * This node's privacy spend over its whole life. Every contribution is written durably *before* its update leaves
 * the node (reserve, then send), so a crash can only ever over-count, never let a sent update go unrecorded. The
 * total is the RDP of all contributions composed order by order and converted once: tighter than adding up
 * per-round epsilons, and still a valid bound for heterogeneous rounds.
 */
export class PrivacyLedger {
  readonly #db: Store
  readonly #ledger
  readonly #budget: PrivacyBudget
  readonly #method: RdpConversion
  readonly #orders: readonly number[]
  readonly #contributingByDefault: boolean
  #history: Contribution[] = []
  /** composed RDP of #history at each order, kept so a check costs one round's RDP, not the whole history's */
  #rdp: number[]
  #contributing = true
  #opened = false
  #chain: Promise<unknown> = Promise.resolve()

  constructor(db: Store, init: PrivacyLedgerInit) {
    const { epsilon, delta } = init.budget ?? ({} as PrivacyBudget)
    if (!(typeof epsilon === 'number' && epsilon > 0 && Number.isFinite(epsilon))) {
      throw new InvalidPrivacyParameterError(`budget epsilon must be a finite number > 0, got ${epsilon}`)
    }
    if (!(typeof delta === 'number' && delta > 0 && delta < 1)) {
      throw new InvalidPrivacyParameterError(`budget delta must be in (0, 1), got ${delta}`)
    }
    this.#db = db
    this.#ledger = db.sublevel<string, string>('privacy-ledger', { valueEncoding: 'utf8' })
    this.#budget = Object.freeze({ epsilon, delta })
    this.#method = init.method ?? DEFAULT_RDP_CONVERSION
    this.#orders = init.orders ?? DEFAULT_ORDERS
    this.#contributingByDefault = init.contributingByDefault ?? true
    this.#rdp = this.#orders.map(() => 0)
  }

  async open(): Promise<void> {
    const history: Contribution[] = []
    for await (const value of this.#ledger.values({
      gte: CONTRIBUTION_PREFIX,
      lt: CONTRIBUTION_PREFIX + '~',
    })) {
      history.push(JSON.parse(value) as Contribution)
    }
    this.#history = history
    this.#rdp = composeRdp(history, this.#orders)
    const contributing = await this.#ledger.get(CONTRIBUTING_KEY)
    this.#contributing = contributing === undefined ? this.#contributingByDefault : contributing === 'true'
    this.#opened = true
  }

  get budget(): PrivacyBudget {
    return this.#budget
  }

  get contributing(): boolean {
    return this.#contributing
  }

  /** Persisted: a node switched off stays off across restarts. */
  setContributing(on: boolean): Promise<void> {
    return this.#serial(async () => {
      await this.#putDurably(CONTRIBUTING_KEY, String(on === true))
      this.#contributing = on === true
    })
  }

  history(): Contribution[] {
    return this.#history.map((c) => ({ ...c }))
  }

  /** (epsilon, delta) spent so far, at the budget's delta. */
  spent(): PrivacySpent {
    this.#assertOpen()
    return this.#convert(
      this.#rdp,
      this.#history.some((c) => c.steps > 0),
    )
  }

  /** What spent() would be after `next`. */
  spentAfter(next: ContributionParams): PrivacySpent {
    this.#assertOpen()
    assertContribution(next)
    const added = composeRdp([next], this.#orders)
    const rdp = this.#rdp.map((r, i) => r + added[i])
    return this.#convert(rdp, next.steps > 0 || this.#history.some((c) => c.steps > 0))
  }

  /** Would `next` keep the node within its budget? */
  canAfford(next: ContributionParams): boolean {
    return this.spentAfter(next).epsilon <= this.#budget.epsilon
  }

  /**
   * Records `next` durably (fsync) and returns the new total, which is the epsilonSpent the update reports. Call it
   * before the update is published; if it throws (over budget, paused, disk error) the update must not be sent.
   * Reservations are serialised, so two concurrent rounds cannot both squeeze under the budget.
   */
  reserve(next: ContributionParams, now: number = Date.now()): Promise<PrivacySpent> {
    return this.#serial(async () => {
      if (!this.#contributing) throw new ContributionPausedError('contributing is switched off for this node')
      const after = this.spentAfter(next)
      if (!(after.epsilon <= this.#budget.epsilon)) {
        throw new PrivacyBudgetExceededError(
          `round ${next.round} would bring epsilon to ${after.epsilon.toFixed(4)}, over the budget of ` +
            `${this.#budget.epsilon} at delta ${this.#budget.delta}`,
        )
      }
      const { round, sampleRate, noiseMultiplier, steps, delta } = next
      const entry: Contribution = { round, sampleRate, noiseMultiplier, steps, delta, reservedAt: now }
      const key = CONTRIBUTION_PREFIX + sortableNumber(this.#history.length)
      await this.#putDurably(key, JSON.stringify(entry))
      const added = composeRdp([entry], this.#orders)
      this.#rdp = this.#rdp.map((r, i) => r + added[i])
      this.#history.push(entry)
      return after
    })
  }

  /** Through the root store: only classic-level's own write options (not a sublevel's) know `sync`. */
  #putDurably(key: string, value: string): Promise<void> {
    return this.#db.batch([{ type: 'put', sublevel: this.#ledger, key, value }], DURABLE)
  }

  #convert(rdp: readonly number[], anythingSpent: boolean): PrivacySpent {
    const { delta } = this.#budget
    // as epsilonForHistory: no step taken means nothing spent, not the conversion's own slack
    if (!anythingSpent) return { epsilon: 0, delta, order: NaN }
    const { epsilon, order } = epsilonFromRdp(this.#orders, rdp, delta, this.#method)
    return { epsilon, delta, order }
  }

  #assertOpen(): void {
    if (!this.#opened) throw new LedgerNotOpenError('open() the privacy ledger before using it')
  }

  #serial<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#chain.then(task)
    this.#chain = result.catch(() => undefined)
    return result
  }
}

function assertContribution(next: ContributionParams): void {
  if (next === null || typeof next !== 'object') {
    throw new InvalidPrivacyParameterError(
      'a contribution is { round, sampleRate, noiseMultiplier, steps, delta }',
    )
  }
  if (!(Number.isSafeInteger(next.round) && next.round >= 0)) {
    throw new InvalidPrivacyParameterError(`round must be a non-negative integer, got ${next.round}`)
  }
  if (!(typeof next.delta === 'number' && next.delta > 0 && next.delta < 1)) {
    throw new InvalidPrivacyParameterError(`delta must be in (0, 1), got ${next.delta}`)
  }
  // sampleRate, noiseMultiplier and steps are checked by composeRdp
}
