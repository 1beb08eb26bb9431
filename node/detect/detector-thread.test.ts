import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../config/index.ts'
import { newEvent } from '../ingest/parsers/new-event.ts'
import { DetectorThread } from './detector-thread.ts'
import { EventBatchWriter, type EventBatch } from './event-batch.ts'

const config = loadConfig({ env: {}, cli: {} }).detect

function failures(count: number): EventBatch[] {
  const batches: EventBatch[] = []
  const writer = new EventBatchWriter((b) => batches.push(b), { records: 16 })
  for (let i = 0; i < count; i++) {
    const e = newEvent(1_700_000_000_000 + i * 1000, '203.0.113.50', 'ssh', 'auth_failure', 'auth.log')
    e.user = 'root'
    writer.event(e, i)
  }
  writer.flush()
  return batches
}

describe('DetectorThread', () => {
  it("acknowledges each batch's buffer and returns the findings of its detectors, in order", async () => {
    const released: number[] = []
    const thread = new DetectorThread({ config, detectors: [0] }, (slot) => released.push(slot))
    const batches = failures(40)
    try {
      for (const b of batches) thread.post(b)
      expect(thread.outstanding).toBe(batches.length)
      await thread.below(0)
      expect(released).toEqual(batches.map((b) => b.slot))
      const findings = await thread.finish()
      expect(findings.length).toBeGreaterThan(0)
      expect(findings.every((f) => f.detector === 0 && f.finding.ip === '203.0.113.50')).toBe(true)
      expect(findings.map((f) => f.seq)).toEqual([...findings.map((f) => f.seq)].sort((a, b) => a - b))
    } finally {
      thread.terminate()
    }
  })

  it('fails every wait when its worker dies mid-run, instead of leaving the scan hanging', async () => {
    // no detector at index 99: the worker throws on its first event
    const thread = new DetectorThread({ config, detectors: [99] }, () => {})
    try {
      for (const b of failures(40)) thread.post(b)
      await expect(thread.below(0)).rejects.toBeInstanceOf(Error)
      await expect(thread.below(0)).rejects.toBeInstanceOf(Error)
      await expect(thread.finish()).rejects.toBeInstanceOf(Error)
    } finally {
      thread.terminate()
    }
  })
})
