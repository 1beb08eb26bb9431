/**
 * Per-event cost of the window aggregator and the statistical / learned detectors, on ~1M synthetic sshd-like
 * and nginx-like events built as parsers build them (one hidden class). Prints ns/event (best of the runs).
 *
 *   npx node node/detect/features/bench/detector-bench.ts [events=1000000] [msPerEvent=2] [runs=3]
 *
 * Addresses follow the parser bench: 90% from a pool of 5,000 returning addresses, 10% fresh; a third stream has a
 * new address on every event (a flood through the eviction paths). msPerEvent sets how
 * fast log time advances, and so how many windows close per event (2 ms: a pool address every ~11 s).
 * Timing is this process's CPU time (`process.cpuUsage`), so a busy machine inflates it less than wall time.
 */
import type { SecurityEvent } from '../../../ingest/event.ts'
import type { Detector } from '../../detector.ts'
import { IsolationForestDetector } from '../../anomaly/isolation-forest-detector.ts'
import { CusumDetector } from '../../stats/cusum-detector.ts'
import { RateZScoreDetector } from '../../stats/rate-zscore-detector.ts'
import { mulberry32, randomInt } from '../prng.ts'
import { httpEvent, sshEvent } from '../synthetic-traffic.ts'
import { WindowAggregator } from '../window-aggregator.ts'

const N = Number(process.argv[2] ?? 1_000_000)
const MS_PER_EVENT = Number(process.argv[3] ?? 2)
const RUNS = Number(process.argv[4] ?? 3)

const rand = mulberry32(0x5eed)
const ipv4 = () =>
  `${1 + randomInt(rand, 223)}.${randomInt(rand, 256)}.${randomInt(rand, 256)}.${1 + randomInt(rand, 254)}`
const POOL = Array.from({ length: 5000 }, ipv4)
const addr = () => (rand() < 0.9 ? POOL[randomInt(rand, POOL.length)] : ipv4())
const USERS = ['root', 'admin', 'test', 'oracle', 'ubuntu', 'user', 'git', 'postgres', 'pi', 'guest']
const SSH_KINDS = [
  'auth_failure',
  'invalid_user',
  'preauth_disconnect',
  'auth_failure',
  'no_identification',
] as const
const PATHS = [
  ...Array.from({ length: 200 }, (_, i) => `/articles/${i}/comments?page=${i % 7}`),
  '/',
  '/static/app.js',
  '/.env',
  '/wp-login.php',
]
const UAS = [
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36',
  'curl/8.5.0',
  '-',
]

function sshd(n: number): SecurityEvent[] {
  return Array.from({ length: n }, (_, i) =>
    sshEvent(
      i * MS_PER_EVENT,
      addr(),
      SSH_KINDS[randomInt(rand, SSH_KINDS.length)],
      USERS[randomInt(rand, USERS.length)],
    ),
  )
}

/** every event from a new address: the eviction path of every table */
function flood(n: number): SecurityEvent[] {
  return Array.from({ length: n }, (_, i) =>
    httpEvent(i * MS_PER_EVENT, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, '/'),
  )
}

function nginx(n: number): SecurityEvent[] {
  return Array.from({ length: n }, (_, i) =>
    httpEvent(i * MS_PER_EVENT, addr(), PATHS[randomInt(rand, PATHS.length)], {
      status: rand() < 0.9 ? 200 : 404,
      userAgent: UAS[rand() < 0.9 ? 0 : randomInt(rand, UAS.length)],
      method: rand() < 0.95 ? 'GET' : 'POST',
    }),
  )
}

interface Subject {
  observe(e: SecurityEvent): unknown
  tick?(now: number): unknown
}

function time(make: () => Subject, events: SecurityEvent[]): number {
  let best = Infinity
  for (let r = 0; r < RUNS; r++) {
    const s = make()
    const t0 = process.cpuUsage()
    let nextTick = 0
    for (let i = 0; i < events.length; i++) {
      const e = events[i]
      s.observe(e)
      // the engine ticks about once per second of event time
      if (e.time >= nextTick) {
        s.tick?.(e.time)
        nextTick = e.time + 1_000
      }
    }
    const used = process.cpuUsage(t0)
    const ns = ((used.user + used.system) * 1000) / events.length
    best = Math.min(best, ns)
  }
  return best
}

const all = (): Subject => {
  const ds: Detector[] = [new IsolationForestDetector(), new RateZScoreDetector(), new CusumDetector()]
  return {
    observe: (e) => {
      for (let i = 0; i < ds.length; i++) ds[i].observe(e)
    },
    tick: (now) => {
      for (const d of ds) d.tick?.(now)
    },
  }
}

const subjects: [string, () => Subject][] = [
  ['WindowAggregator (minEvents 1)', () => new WindowAggregator()],
  ['WindowAggregator (minEvents 5)', () => new WindowAggregator({ minEvents: 5 })],
  ['IsolationForestDetector', () => new IsolationForestDetector()],
  ['RateZScoreDetector', () => new RateZScoreDetector()],
  ['CusumDetector', () => new CusumDetector()],
  ['all three', all],
]

for (const [label, events] of [
  ['sshd', sshd(N)],
  ['nginx', nginx(N)],
  ['address flood (all distinct, http)', flood(N)],
] as const) {
  console.log(`${label}: ${N} events, ${MS_PER_EVENT} ms of log time per event`)
  for (const [name, make] of subjects)
    console.log(`  ${name.padEnd(32)} ${time(make, events).toFixed(0).padStart(5)} ns/event`)
}
