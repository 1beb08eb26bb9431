import { performance, type EventLoopUtilization } from 'node:perf_hooks'

/** Above this mean event-loop load during the traffic, latencies measure the simulator's core, not the network. */
export const SATURATED_LOOP = 0.85
/** what the table and the HTML page say about a run whose loop was saturated */
export const SATURATION_NOTE =
  'this machine was saturated: the latencies measure its core more than the network'

/** CPU time and peak memory of the whole simulator process (all nodes share it). */
export interface ResourceUsage {
  cpuUserMs: number
  cpuSystemMs: number
  /** peak resident set size, from the kernel (getrusage maxrss) */
  peakRssMb: number
  /** peak V8 heap in use, sampled */
  peakHeapMb: number
  wallMs: number
  /**
   * Share of wall time the event loop (which every node shares) was busy while traffic ran, per sample: near
   * 1, alerts queue behind other nodes' work and propagation figures are bounded by this machine.
   */
  trafficLoopLoad: { mean: number; max: number } | null
}

export class ResourceMeter {
  readonly #cpu = process.cpuUsage()
  readonly #t0 = Date.now()
  #peakHeap = 0
  #peakRss = 0
  #elu: EventLoopUtilization | undefined
  readonly #loads: number[] = []

  /** From now until `endTraffic`, each sample also records the event loop's load since the previous one. */
  startTraffic(): void {
    this.#elu = performance.eventLoopUtilization()
  }

  endTraffic(): void {
    this.#loadSample()
    this.#elu = undefined
  }

  #loadSample(): void {
    if (this.#elu === undefined) return
    const now = performance.eventLoopUtilization()
    const delta = performance.eventLoopUtilization(now, this.#elu)
    if (delta.idle + delta.active > 0) this.#loads.push(delta.utilization)
    this.#elu = now
  }

  sample(): { rssMb: number; heapMb: number } {
    this.#loadSample()
    const m = process.memoryUsage()
    this.#peakHeap = Math.max(this.#peakHeap, m.heapUsed)
    this.#peakRss = Math.max(this.#peakRss, m.rss)
    return { rssMb: mb(m.rss), heapMb: mb(m.heapUsed) }
  }

  finish(): ResourceUsage {
    this.sample()
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
