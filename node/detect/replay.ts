import { availableParallelism } from 'node:os'
import { stat } from 'node:fs/promises'
import type { DetectionEngine, EngineRecipe } from './detection-engine.ts'
import { DetectorThread } from './detector-thread.ts'
import type { Decision } from './ensemble.ts'
import { EventBatchWriter } from './event-batch.ts'
import { releaseStartupMemory } from './release-memory.ts'
import { detectorThreads, PARALLEL_MIN_BYTES, releaseWarmReplayWorkers } from './replay-pool.ts'
import { scanFiles, type FileCounts, type ReplayFile } from './replay-scan.ts'
import { DetectorStage, mergeStaged, type StagedFinding } from './staged-findings.ts'

export type { ReplayFile } from './replay-scan.ts'

export interface ReplayDecision {
  ip: string
  scenario: string
  events: number
  first: string
  last: string
  confidence: number
  reasons: string[]
  detectors: string[]
  offence: number
  durationSeconds: number
}

export interface ReplayResult {
  lines: number
  parsed: number
  unparsed: number
  seconds: number
  linesPerSecond: number
  decisions: ReplayDecision[]
  files: FileCounts[]
}

export interface ReplayOptions {
  /**
   * 1: everything on this thread. 2: this thread parses, and the detectors run in groups on worker threads (see
   * `EngineRecipe`) at the same time; their findings are merged back in order, so the decisions are the same.
   * Default: 2 for inputs of at least `PARALLEL_MIN_BYTES` when the machine has a second core and the engine was
   * built from config.
   */
  threads: number
  /**
   * Detector threads of a parallel replay; the engine's detector groups are shared out among them in order.
   * Default: `detectorThreads` (one per core beyond the parsing thread, at most one per group).
   */
  workers: number
}

/** below this much input, starting workers (about 150 ms) costs more than it saves */
export { PARALLEL_MIN_BYTES }

/**
 * Batches (of 4,096 events, 256 KB) a worker may have waiting before the parse holds: enough to ride out
 * a slow spell on either side, few enough that a slower detector thread cannot pile up the whole file in memory.
 */
const MAX_BATCHES_IN_FLIGHT = 16

export function decisionView(d: Decision): ReplayDecision {
  return {
    ip: d.ip,
    scenario: d.scenario,
    events: d.events,
    first: new Date(d.first).toISOString(),
    last: new Date(d.last).toISOString(),
    confidence: d.confidence,
    reasons: d.reasons,
    detectors: d.detectors,
    offence: d.offence,
    durationSeconds: d.durationSeconds,
  }
}

async function defaultThreads(files: readonly ReplayFile[]): Promise<number> {
  if (availableParallelism() < 2) return 1
  let bytes = 0
  for (const f of files) bytes += (await stat(f.path)).size
  return bytes >= PARALLEL_MIN_BYTES ? 2 : 1
}

/**
 * `shieldwall detect`: the live parsers and detectors over whole files, with time taken from the lines
 * themselves (like `fail2ban-regex` and CrowdSec's replay mode), so an operator can tune before enabling bans.
 */
export async function replayFiles(
  files: readonly ReplayFile[],
  engine: DetectionEngine,
  options: Partial<ReplayOptions> = {},
): Promise<ReplayResult> {
  const started = process.hrtime.bigint()
  const decisions: Decision[] = []
  const recipe = engine.recipe
  const threads = recipe === undefined ? 1 : (options.threads ?? (await defaultThreads(files)))
  let perFile: FileCounts[]
  if (threads < 2 || recipe === undefined) {
    releaseWarmReplayWorkers()
    perFile = await scanFiles(files, {
      event(event) {
        const d = engine.observe(event)
        if (d !== undefined) decisions.push(d)
      },
      tick(now) {
        for (const d of engine.tick(now)) decisions.push(d)
      },
    })
  } else {
    const workers = options.workers ?? detectorThreads(recipe.groups.length)
    perFile = await replayInParallel(
      files,
      engine,
      shareOut(recipe.groups, workers),
      recipe.config,
      decisions,
    )
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  const lines = perFile.reduce((n, f) => n + f.lines, 0)
  return {
    lines,
    parsed: perFile.reduce((n, f) => n + f.parsed, 0),
    unparsed: perFile.reduce((n, f) => n + f.unparsed, 0),
    seconds: Math.round(seconds * 1000) / 1000,
    linesPerSecond: Math.round(lines / Math.max(seconds, 1e-9)),
    decisions: decisions.map(decisionView),
    files: perFile,
  }
}

/**
 * This thread reads and parses every line once and sends the events in batches to the workers, each running
 * some of the detector groups (`EngineRecipe`) at the same time as the parse; their findings, merged back in
 * order, go through this engine's ensemble, so the decisions are those of a one-thread replay. Detectors in no
 * group (handed in by code) run here, on the events as they are parsed.
 *
 * Measured on 2 cores (1M lines, `npm run bench:detect`'s files): with the two config groups on two workers
 * instead of one, sshd fell from about 610k to 510k lines/s (three busy threads on two cores, and the parse
 * waits its turn) and nginx went from 370k to 380k, within noise; hence `detectorThreads`.
 */
async function replayInParallel(
  files: readonly ReplayFile[],
  engine: DetectionEngine,
  groups: readonly (readonly number[])[],
  config: EngineRecipe['config'],
  decisions: Decision[],
): Promise<FileCounts[]> {
  const grouped = new Set(groups.flat())
  const local = engine.detectors.map((_, i) => i).filter((i) => !grouped.has(i))
  // every worker reads each batch in place; its buffer is reused once the last of them is done
  const readers: number[] = []
  const done = (slot: number) => {
    if (--readers[slot] === 0) writer.release(slot)
  }
  const workers = groups.map((detectors) => new DetectorThread({ config, detectors: [...detectors] }, done))
  // warm workers started for a split this replay does not use
  releaseWarmReplayWorkers()
  const writer = new EventBatchWriter((batch) => {
    readers[batch.slot] = workers.length
    for (const w of workers) w.post(batch)
  })
  // the young generation grown while loading modules would otherwise stay resident beside the workers' heaps
  releaseStartupMemory()
  try {
    const stage = local.length > 0 ? new DetectorStage(engine.detectors, local) : undefined
    const perFile = await scanFiles(files, {
      event(event, seq) {
        writer.event(event, seq)
        stage?.event(event, seq)
      },
      tick(now, seq) {
        writer.tick(now, seq)
        stage?.tick(now, seq)
      },
      drain() {
        if (workers.every((w) => w.outstanding <= MAX_BATCHES_IN_FLIGHT)) return undefined
        return Promise.all(workers.map((w) => w.below(MAX_BATCHES_IN_FLIGHT / 2))).then(() => {})
      },
    })
    writer.flush()
    let findings: StagedFinding[] = stage?.findings ?? []
    for (const w of workers) findings = mergeStaged(findings, await w.finish())
    engine.decideStaged(
      findings,
      perFile.reduce((n, f) => n + f.parsed, 0),
      decisions,
    )
    return perFile
  } finally {
    // after a failure the others must not keep the process alive
    for (const w of workers) w.terminate()
  }
}

/** `groups` in `count` runs of neighbours (fewer when there are fewer groups), each run one thread's detectors */
export function shareOut(groups: readonly (readonly number[])[], count: number): number[][] {
  const n = Math.max(1, Math.min(count, groups.length))
  const out: number[][] = []
  for (let t = 0; t < n; t++) {
    const from = Math.floor((t * groups.length) / n)
    const to = Math.floor(((t + 1) * groups.length) / n)
    out.push(groups.slice(from, to).flat())
  }
  return out
}
