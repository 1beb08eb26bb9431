import { availableParallelism } from 'node:os'
import { stat } from 'node:fs/promises'
import type { Worker } from 'node:worker_threads'
import type { DetectionEngine } from './detection-engine.ts'
import type { Decision } from './ensemble.ts'
import { releaseStartupMemory } from './release-memory.ts'
import { PARALLEL_MIN_BYTES, releaseWarmReplayWorkers, startReplayWorker } from './replay-pool.ts'
import { scanFiles, type FileCounts, type ReplayFile } from './replay-scan.ts'
import type { ReplayWorkerData, ReplayWorkerResult } from './replay-worker.ts'
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
   * 1: everything on this thread. 2: the detectors run in groups on worker threads (see `EngineRecipe`) that
   * each scan the files themselves, and their findings are merged back in order, so the decisions are the same.
   * Default: 2 for inputs of at least `PARALLEL_MIN_BYTES` when the machine has a second core and the engine was
   * built from config.
   */
  threads: number
}

/** below this much input, starting workers (about 150 ms) costs more than it saves */
export { PARALLEL_MIN_BYTES }

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
  // one group of detectors (stats and anomaly off) would leave this thread waiting on a single worker
  const threads =
    recipe === undefined || recipe.groups.length < 2 ? 1 : (options.threads ?? (await defaultThreads(files)))
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
    const grouped = new Set(recipe.groups.flat())
    const local = engine.detectors.map((_, i) => i).filter((i) => !grouped.has(i))
    const workers = recipe.groups.map((detectors) =>
      startWorker({ files: [...files], config: recipe.config, detectors: [...detectors] }),
    )
    try {
      // a rejection is awaited below; until then it must not count as unhandled
      for (const w of workers) w.result.catch(() => {})
      let findings: StagedFinding[] = []
      let scanned: FileCounts[] | undefined
      if (local.length > 0) {
        const stage = new DetectorStage(engine.detectors, local)
        scanned = await scanFiles(files, stage)
        findings = stage.findings
      } else {
        // while the workers start up: from here on this thread only waits for them
        releaseStartupMemory()
      }
      for (const w of workers) {
        const result = await w.result
        scanned ??= result.files
        findings = mergeStaged(findings, result.findings)
      }
      perFile = scanned as FileCounts[]
      engine.decideStaged(
        findings,
        perFile.reduce((n, f) => n + f.parsed, 0),
        decisions,
      )
    } finally {
      // after a failure the others must not keep the process alive
      for (const w of workers) void w.worker.terminate()
    }
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

function startWorker(data: ReplayWorkerData): { worker: Worker; result: Promise<ReplayWorkerResult> } {
  const worker = startReplayWorker(data)
  worker.ref()
  const result = new Promise<ReplayWorkerResult>((resolve, reject) => {
    let sent: ReplayWorkerResult | undefined
    worker.once('message', (r: ReplayWorkerResult) => {
      sent = r
    })
    worker.once('error', reject)
    worker.once('exit', (code) => {
      if (sent !== undefined) resolve(sent)
      else reject(new Error(`replay worker exited with code ${code} before sending its findings`))
    })
  })
  return { worker, result }
}
