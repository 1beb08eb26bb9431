/** CPU time and peak memory of the whole simulator process (all nodes share it). */
export interface ResourceUsage {
  cpuUserMs: number
  cpuSystemMs: number
  /** peak resident set size, from the kernel (getrusage maxrss) */
  peakRssMb: number
  /** peak V8 heap in use, sampled */
  peakHeapMb: number
  wallMs: number
}

export class ResourceMeter {
  readonly #cpu = process.cpuUsage()
  readonly #t0 = Date.now()
  #peakHeap = 0
  #peakRss = 0

  sample(): { rssMb: number; heapMb: number } {
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
    }
  }
}

function mb(bytes: number): number {
  return Math.round(bytes / (1024 * 1024))
}
