import { describe, expect, it } from 'vitest'
import type { SecurityEvent } from '../ingest/event.ts'
import { ipv4Key, ipv4KeyOf } from '../ingest/parsers/ip.ts'
import { newEvent } from '../ingest/parsers/new-event.ts'
import { EventBatchReader, EventBatchWriter, type EventBatch } from './event-batch.ts'
import type { ReplaySink } from './replay-scan.ts'

type Call = ['event', SecurityEvent, number] | ['tick', number, number]

function recorder(): { calls: Call[]; sink: ReplaySink; keys: [string, number][] } {
  const calls: Call[] = []
  const keys: [string, number][] = []
  return {
    calls,
    keys,
    sink: {
      event(e, seq) {
        // what a detector would ask for right away, before anything else moves the cache
        keys.push([e.ip, ipv4KeyOf(e.ip)])
        calls.push(['event', { ...e }, seq])
      },
      tick(now, seq) {
        calls.push(['tick', now, seq])
      },
    },
  }
}

function sshFailure(time: number, ip: string, user: string): SecurityEvent {
  const e = newEvent(time, ip, 'ssh', 'auth_failure', '/var/log/auth.log')
  e.user = user
  return e
}

function httpRequest(time: number, ip: string, path: string): SecurityEvent {
  const e = newEvent(time, ip, 'http', 'http_request', '/var/log/nginx/access.log')
  e.method = 'GET'
  e.path = path
  e.status = 404
  e.bytes = 153
  e.userAgent = 'curl/8.5.0'
  e.referer = 'https://example.org/'
  return e
}

/** writes `calls` through a writer and reads each batch back at once, as a worker would, then releases it */
function roundTrip(calls: Call[], options: { records?: number; maxStrings?: number } = {}) {
  const reader = new EventBatchReader()
  const out = recorder()
  const batches: EventBatch[] = []
  const writer: EventBatchWriter = new EventBatchWriter((batch) => {
    batches.push({ ...batch, strings: [...batch.strings] })
    reader.read(batch, out.sink)
    writer.release(batch.slot)
  }, options)
  for (const c of calls) {
    if (c[0] === 'event') writer.event(c[1], c[2])
    else writer.tick(c[1], c[2])
  }
  writer.flush()
  return { out, batches, writer }
}

describe('EventBatchWriter and EventBatchReader', () => {
  it('carry every field of every event, and the ticks between them, in order', () => {
    const everything = newEvent(1_700_000_000_123, '2001:db8::7', 'http', 'http_error', 'api')
    everything.user = 'alice'
    everything.method = 'POST'
    everything.path = '/login?next=%2F'
    everything.status = 404.5
    everything.bytes = 2 ** 40
    everything.userAgent = 'Mozilla/5.0 (X11; Linux x86_64)'
    everything.referer = 'https://example.org/a'
    everything.count = 5
    const huge = httpRequest(2550, '198.51.100.24', '/')
    huge.status = 3e9
    const calls: Call[] = [
      ['event', sshFailure(1000, '203.0.113.7', 'root'), 0],
      ['event', sshFailure(1500, '203.0.113.7', 'admin'), 1],
      ['tick', 1500, 1],
      ['event', everything, 2],
      ['event', httpRequest(2500, '198.51.100.23', '/.env'), 3],
      ['event', huge, 4],
      ['event', newEvent(2600, '0.0.0.0', 'other', 'generic_failure', undefined), 5],
      ['event', httpRequest(2700, '255.255.255.255', '/.git/config'), 6],
      ['tick', 900_000, 7],
    ]
    const { out } = roundTrip(calls)
    expect(out.calls).toEqual(calls)
    // the parsers' field order (one hidden class for every event the detectors see)
    const fields = Object.keys(newEvent(0, '192.0.2.1', 'ssh', 'auth_failure', undefined))
    for (const c of out.calls) if (c[0] === 'event') expect(Object.keys(c[1])).toEqual(fields)
    // every address's key is ready for the detectors, right for IPv4 and 0 for IPv6 and 0.0.0.0
    expect(out.keys).toEqual(
      out.calls.flatMap((c) => (c[0] === 'event' ? [[c[1].ip, ipv4Key(c[1].ip)]] : [])),
    )
    expect(out.keys.find(([ip]) => ip === '255.255.255.255')?.[1]).toBe(-1)
  })

  it('sends a string once while the reader keeps it, and gives back one string object per address', () => {
    const calls: Call[] = []
    for (let i = 0; i < 1000; i++) calls.push(['event', httpRequest(i, `192.0.2.${i % 10}`, `/p${i % 7}`), i])
    const { out, batches } = roundTrip(calls, { records: 100 })
    expect(batches).toHaveLength(10)
    const sent = batches.flatMap((b) => b.strings)
    // 7 paths, one method, user agent, referer and source: each crossed once
    expect(sent.sort()).toEqual(
      [
        ...Array.from({ length: 7 }, (_, i) => `/p${i}`),
        'GET',
        'curl/8.5.0',
        'https://example.org/',
        '/var/log/nginx/access.log',
      ].sort(),
    )
    expect(out.calls).toEqual(calls)
    const ips = out.calls.map((c) => (c[0] === 'event' ? c[1].ip : ''))
    expect(new Set(ips).size).toBe(10)
  })

  it('clears the string table past maxStrings and still reads every string right', () => {
    const calls: Call[] = []
    for (let i = 0; i < 500; i++) calls.push(['event', sshFailure(i, '203.0.113.9', `user${i}`), i])
    const { out, batches } = roundTrip(calls, { records: 50, maxStrings: 64 })
    expect(out.calls).toEqual(calls)
    expect(batches.filter((b) => b.reset).length).toBe(4)
    // bounded: at most maxStrings plus one batch's worth of new strings between two resets
    let held = 0
    for (const b of batches) {
      held = (b.reset ? 0 : held) + b.strings.length
      expect(held).toBeLessThanOrEqual(64 + 50 * 2)
    }
  })

  it('reuses a released buffer, and makes a new one only while batches are still being read', () => {
    const calls: Call[] = []
    for (let i = 0; i < 1000; i++) calls.push(['tick', i, i])
    expect(roundTrip(calls, { records: 10 }).writer.slots).toBe(1)

    const held: EventBatch[] = []
    const writer = new EventBatchWriter((b) => held.push(b), { records: 10 })
    for (let i = 0; i < 100; i++) writer.tick(i, i)
    expect(new Set(held.map((b) => b.slot)).size).toBe(10)
    expect(writer.slots).toBe(11)
  })

  it('refuses a batch that does not fit its buffer, and an event of an unknown kind', () => {
    const reader = new EventBatchReader()
    const batch: EventBatch = {
      slot: 0,
      buffer: new SharedArrayBuffer(10 * 72),
      records: 11,
      reset: false,
      strings: [],
    }
    expect(() => reader.read(batch, recorder().sink)).toThrow(
      expect.objectContaining({ name: 'EventBatchCodecError' }),
    )
    const writer = new EventBatchWriter(() => {})
    const odd = { ...newEvent(0, '192.0.2.1', 'ssh', 'auth_failure', undefined), kind: 'nope' }
    expect(() => writer.event(odd as unknown as SecurityEvent, 0)).toThrow(
      expect.objectContaining({ name: 'EventBatchCodecError' }),
    )
  })
})
