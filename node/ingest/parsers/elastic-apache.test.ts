import { describe, expect, it } from 'vitest'
import { createParser } from './index.ts'
import { UNPARSED } from './parser.ts'
import { dataLines, hasData } from './test-data.ts'

const FILE = 'elastic-examples/apache_logs'

describe.skipIf(!hasData(FILE))('elastic-examples apache_logs (combined, May 2015)', () => {
  it('parses all 10,000 lines into requests from 1,753 addresses', () => {
    const p = createParser('apache')
    const ips = new Set<string>()
    const statuses = new Map<number, number>()
    let events = 0
    let minTime = Number.POSITIVE_INFINITY
    for (const line of dataLines(FILE)) {
      const r = p.parse(line)
      if (r === UNPARSED || r === undefined) throw new Error(`not parsed: ${line}`)
      expect(r.kind).toBe('http_request')
      expect(r.method).toBeDefined()
      events++
      ips.add(r.ip)
      statuses.set(r.status!, (statuses.get(r.status!) ?? 0) + 1)
      minTime = Math.min(minTime, r.time)
    }
    expect(events).toBe(10_000)
    expect(ips.size).toBe(1_753)
    expect(statuses.get(200)).toBeGreaterThan(9_000)
    expect(new Date(minTime).toISOString().slice(0, 10)).toBe('2015-05-17')
  })
})
