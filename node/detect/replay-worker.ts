import { parentPort, workerData } from 'node:worker_threads'
import { createDetectionEngine, type DetectConfig } from './create-engine.ts'
import { scanFiles, type FileCounts, type ReplayFile } from './replay-scan.ts'
import { DetectorStage, type StagedFinding } from './staged-findings.ts'

/**
 * One thread of a parallel `shieldwall detect`: scans the files (parsing is deterministic, so every thread sees
 * the same events) and runs one group of the engine's detectors on them, then sends back their findings in
 * order. Passing every event between threads would cost more than parsing it once per thread.
 */
export interface ReplayWorkerData {
  files: ReplayFile[]
  config: DetectConfig
  detectors: number[]
}

export interface ReplayWorkerResult {
  files: FileCounts[]
  findings: StagedFinding[]
}

// A warm worker (replay-pool.ts) starts without its job and waits for it as the first message.
const data: ReplayWorkerData =
  workerData ?? (await new Promise<ReplayWorkerData>((resolve) => parentPort?.once('message', resolve)))
const engine = createDetectionEngine(data.config)
const stage = new DetectorStage(engine.detectors, data.detectors)
const files = await scanFiles(data.files, stage)
const result: ReplayWorkerResult = { files, findings: stage.findings }
parentPort?.postMessage(result)
