import { performance } from 'node:perf_hooks'

/** Above this mean event-loop load during the traffic, latencies measure the simulator's core, not the network. */
export const SATURATED_LOOP = 0.85
/** what the table and the HTML page say about a run whose loop was saturated */
export const SATURATION_NOTE =
  'this machine was saturated: the latencies measure its core more than the network'

/** One thread's event loop counters (cumulative, ms) and its heap in use, as its shard reports them. */
export interface ThreadUsage {
  idle: number
  active: number
  heapUsed: number
}

/** This thread's usage; in a worker, the worker's own loop and heap. */
export function threadUsage(): ThreadUsage {
  const elu = performance.eventLoopUtilization()
  return { idle: elu.idle, active: elu.active, heapUsed: process.memoryUsage().heapUsed }
}

/**
 * The busiest thread's event-loop load since the previous call. Threads are told apart by position, so each
 * caller passes every shard's usage in the same order.
 */
export class LoopLoad {
  #last: ThreadUsage[] = []

  next(threads: ThreadUsage[]): number | undefined {
    let max: number | undefined
    threads.forEach((t, i) => {
      const prev = this.#last[i]
      if (prev === undefined) return
      const active = t.active - prev.active
      const total = active + (t.idle - prev.idle)
      if (total > 0) max = Math.max(max ?? 0, active / total)
    })
    this.#last = threads
    return max
  }
}

/** CPU time and peak memory of the whole simulator process (all its threads and nodes). */
export interface ResourceUsage {
  cpuUserMs: number
  cpuSystemMs: number
  /** peak resident set size, from the kernel (getrusage maxrss) */
  peakRssMb: number
  /** peak V8 heap in use, summed over the threads that run nodes, sampled */
  peakHeapMb: number
  wallMs: number
  /**
   * Share of wall time the busiest event loop (nodes of one thread share it) was busy while traffic ran, per
   * sample: near 1, alerts queue behind other nodes' work and propagation figures are bounded by this machine.
   */
  trafficLoopLoad: { mean: number; max: number } | null
}

export class ResourceMeter {
  readonly #cpu = process.cpuUsage()
  readonly #t0 = Date.now()
  #peakHeap = 0
  #peakRss = 0
  #load: LoopLoad | undefined
  readonly #loads: number[] = []

  /** From now until `endTraffic`, each sample also records the busiest loop's load since the previous one. */
  startTraffic(threads: ThreadUsage[]): void {
    this.#load = new LoopLoad()
    this.#load.next(threads)
  }

  endTraffic(threads: ThreadUsage[]): void {
    this.sample(threads)
    this.#load = undefined
  }

  /** `threads`: every thread that runs nodes (the main thread alone when it runs them all) */
  sample(threads: ThreadUsage[]): { rssMb: number; heapMb: number } {
    const load = this.#load?.next(threads)
    if (load !== undefined) this.#loads.push(load)
    const rss = process.memoryUsage().rss
    const heap = threads.reduce((s, t) => s + t.heapUsed, 0)
    this.#peakHeap = Math.max(this.#peakHeap, heap)
    this.#peakRss = Math.max(this.#peakRss, rss)
    return { rssMb: mb(rss), heapMb: mb(heap) }
  }

  finish(threads: ThreadUsage[]): ResourceUsage {
    this.sample(threads)
    const cpu = process.cpuUsage(this.#cpu)
    return {
      cpuUserMs: Math.round(cpu.user / 1000),
      cpuSystemMs: Math.round(cpu.system / 1000),
      peakRssMb: Math.max(mb(this.#peakRss), Math.round(process.resourceUsage().maxRSS / 1024)),
      peakHeapMb: mb(this.#peakHeap),
      wallMs: Date.now() - this.#t0,
      trafficLoopLoad:
        this.#loads.length === 0
          ? null
          : {
              mean: round2(this.#loads.reduce((a, b) => a + b, 0) / this.#loads.length),
              max: round2(Math.max(...this.#loads)),
            },
    }
  }
}

function mb(bytes: number): number {
  return Math.round(bytes / (1024 * 1024))
}

function round2(v: number): number {
  return Math.round(v * 100) / 100
}
