import type { SecurityEvent, ServiceKind } from '../../ingest/event.ts'
import { IpSlotTable } from './ip-slot-table.ts'
import { WindowAccumulator } from './window-accumulator.ts'

export interface WindowAggregatorInit {
  /** tumbling window length per address, opened by the address's first event (event time) */
  windowMs: number
  /** most addresses with an open window; beyond it the oldest window is closed early */
  maxIps: number
  /** windows with fewer (weighted) events are dropped without computing features */
  minEvents: number
  /** most windows one `tick` closes, so a backlog is worked off over several calls */
  maxClosePerTick: number
}

export const DEFAULT_WINDOW_AGGREGATOR_INIT: WindowAggregatorInit = {
  windowMs: 60_000,
  maxIps: 50_000,
  minEvents: 1,
  maxClosePerTick: 10_000,
}

export interface ClosedWindow {
  ip: string
  /** [start, end): start is the first event's time; end is start + windowMs, or earlier when evicted */
  start: number
  end: number
  /** time of the last event in the window */
  last: number
  /** events, weighted by their `count` */
  events: number
  /** the service that produced most of the events */
  service: ServiceKind
  /** `FEATURE_SCHEMA` order; a view into a shared chunk (`Slab`), so copy it to keep many windows for long */
  features: Float64Array
  /** closed before its end because the address table was full */
  truncated: boolean
}

export class InvalidWindowConfigError extends Error {
  override name = 'InvalidWindowConfigError'
}

// Recycled accumulators beyond this are left to the GC, so memory shrinks again after a flood.
const POOL_MAX = 1024

/**
 * Per-address tumbling windows. The open windows live in an `IpSlotTable` whose order is refreshed only when a
 * window opens, never on every event: its order is then the order windows opened, which (events arriving in
 * time order) is the order they end. So `tick` closes expired windows by walking from the front and stopping at
 * the first live one, and a full table evicts the window that would end soonest. One event costs one lookup by
 * the address's number, plus a move to the back when it opens a window.
 */
export class WindowAggregator {
  readonly init: WindowAggregatorInit
  readonly #open: IpSlotTable
  /** the open window of each slot of `#open` */
  readonly #accs: (WindowAccumulator | undefined)[] = []
  readonly #pool: WindowAccumulator[] = []
  #evicted: WindowAccumulator | undefined = undefined
  #evictedIp = ''
  #closed = 0
  #emitted = 0

  constructor(init: Partial<WindowAggregatorInit> = {}) {
    this.init = { ...DEFAULT_WINDOW_AGGREGATOR_INIT, ...init }
    const { windowMs, maxIps, minEvents, maxClosePerTick } = this.init
    if (
      !(windowMs > 0) ||
      !(minEvents >= 0) ||
      !Number.isInteger(maxIps) ||
      !(maxIps >= 1) ||
      !(maxClosePerTick >= 1)
    ) {
      throw new InvalidWindowConfigError(
        `windowMs and maxClosePerTick must be positive, maxIps a positive integer, minEvents >= 0 (got ${JSON.stringify(this.init)})`,
      )
    }
    this.#open = new IpSlotTable(this.init.maxIps, (slot) => {
      this.#evicted = this.#accs[slot]
      this.#evictedIp = this.#open.ipOf(slot)
      this.#accs[slot] = undefined
    })
  }

  /**
   * Hot path. Returns a window when this event closes one: the address's previous window when the event falls
   * after its end, or, when a new address fills the table, the evicted address's window (closed early).
   */
  observe(e: SecurityEvent): ClosedWindow | undefined {
    const open = this.#open
    let slot = open.find(e.ip)
    let acc: WindowAccumulator
    let closed: ClosedWindow | undefined
    const windowMs = this.init.windowMs
    if (slot !== -1) {
      acc = this.#accs[slot] as WindowAccumulator
      if (e.time < acc.end) {
        acc.add(e)
        return undefined
      }
      closed = this.#close(acc, acc.end, slot)
      acc.reset('', e.time, windowMs)
      open.moveToBack(slot)
    } else {
      acc = this.#pool.pop() ?? new WindowAccumulator()
      acc.reset('', e.time, windowMs)
      slot = open.add(e.ip)
      this.#accs[slot] = acc
      const evicted = this.#evicted
      if (evicted !== undefined) {
        this.#evicted = undefined
        evicted.ip = this.#evictedIp
        closed = this.#close(evicted, Math.min(evicted.end, Math.max(e.time, evicted.last)), -1)
        this.#recycle(evicted)
      }
    }
    acc.add(e)
    return closed
  }

  /** Closes windows whose end is at or before `now` (at most `maxClosePerTick`). */
  tick(now: number): ClosedWindow[] {
    const out: ClosedWindow[] = []
    let budget = this.init.maxClosePerTick
    const open = this.#open
    for (let slot = open.oldest(); slot !== -1 && budget-- > 0; slot = open.oldest()) {
      const acc = this.#accs[slot] as WindowAccumulator
      if (acc.end > now) break
      const closed = this.#close(acc, acc.end, slot)
      this.#forget(slot)
      if (closed !== undefined) out.push(closed)
    }
    return out
  }

  /** Closes every open window, e.g. at the end of a replay. */
  flush(): ClosedWindow[] {
    const out: ClosedWindow[] = []
    const open = this.#open
    for (let slot = open.oldest(); slot !== -1; slot = open.oldest()) {
      const acc = this.#accs[slot] as WindowAccumulator
      const closed = this.#close(acc, acc.end, slot)
      this.#forget(slot)
      if (closed !== undefined) out.push(closed)
    }
    return out
  }

  stats(): Record<string, number> {
    return {
      trackedIps: this.#open.size,
      evictedIps: this.#open.evictions,
      windowsClosed: this.#closed,
      windowsEmitted: this.#emitted,
    }
  }

  /** `slot` is the window's slot while it still holds it, or -1 when `acc.ip` is already set */
  #close(acc: WindowAccumulator, end: number, slot: number): ClosedWindow | undefined {
    this.#closed++
    if (acc.events < this.init.minEvents) return undefined
    this.#emitted++
    return {
      ip: slot === -1 ? acc.ip : this.#open.ipOf(slot),
      start: acc.start,
      end,
      last: acc.last,
      events: acc.events,
      service: acc.service,
      features: acc.toFeatureVector(),
      truncated: end < acc.end,
    }
  }

  #forget(slot: number): void {
    const acc = this.#accs[slot] as WindowAccumulator
    this.#open.remove(slot)
    this.#accs[slot] = undefined
    this.#recycle(acc)
  }

  #recycle(acc: WindowAccumulator): void {
    acc.ip = ''
    if (this.#pool.length < POOL_MAX) this.#pool.push(acc)
  }
}
