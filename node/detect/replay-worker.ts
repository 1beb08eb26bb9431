import { parentPort, workerData } from 'node:worker_threads'
import { createDetectionEngine, type DetectConfig } from './create-engine.ts'
import { EventBatchReader, type EventBatch } from './event-batch.ts'
import { DetectorStage, type StagedFinding } from './staged-findings.ts'

/**
 * One detector thread of a parallel `shieldwall detect`. The main thread parses each line once and sends the
 * events in batches (`event-batch.ts`); this thread builds the same engine from config, runs one group of its
 * detectors over them, acknowledges each batch (its buffer is then reused; the main thread holds its scan while
 * too many are in flight) and at the end sends back the findings in order.
 */
export interface ReplayWorkerJob {
  config: DetectConfig
  detectors: number[]
}

/** from the main thread, after the job (which a warm worker gets as its first message) */
export type ReplayWorkerInput = { type: 'batch'; batch: EventBatch } | { type: 'end' }
export type ReplayWorkerOutput = { type: 'ack'; slot: number } | { type: 'result'; findings: StagedFinding[] }

const port = parentPort
if (port === null) throw new Error('replay-worker.ts runs as a worker thread')
const reader = new EventBatchReader()
let stage: DetectorStage | undefined

function begin(job: ReplayWorkerJob): void {
  const engine = createDetectionEngine(job.config)
  stage = new DetectorStage(engine.detectors, job.detectors)
}

// one listener from the start: a warm worker's job and the first batches can arrive together
if (workerData !== null && workerData !== undefined) begin(workerData as ReplayWorkerJob)
port.on('message', (m: ReplayWorkerJob | ReplayWorkerInput) => {
  if (stage === undefined) return begin(m as ReplayWorkerJob)
  const input = m as ReplayWorkerInput
  if (input.type === 'batch') {
    reader.read(input.batch, stage)
    port.postMessage({ type: 'ack', slot: input.batch.slot } satisfies ReplayWorkerOutput)
  } else {
    port.postMessage({ type: 'result', findings: stage.findings } satisfies ReplayWorkerOutput)
    port.close()
  }
})
