import type { BlocklistView } from '../blocklist/block-entry.ts'
import type { Logger } from '../logging/logger.ts'
import type { Store } from '../store/open-store.ts'
import { BouncerKeys } from './bouncer-keys.ts'
import { ChangeJournal, DEFAULT_JOURNAL_CAPACITY } from './change-journal.ts'
import { DecisionFeed } from './decision-feed.ts'
import { StreamGate, type StreamLimits } from './stream-gate.ts'

export interface BouncerServiceInit {
  /** blocklist changes held for bouncer deltas and SSE resumes */
  journalCapacity: number
  /** caps on long answers (SSE, startup pulls, whole-list queries): config `api.streams` */
  streams: Partial<StreamLimits>
}

export interface BouncerServiceComponents {
  store: Store
  blocklist: BlocklistView
  logger: Logger
  clock?: () => number
}

/**
 * Enforcement through CrowdSec's bouncer API: the bouncer registry, the change journal and the decision feed
 * over one blocklist. The routes (`/v1/*` for bouncers, `/api/bouncers` for admins, the SSE stream) read it.
 */
export interface BouncerService {
  readonly keys: BouncerKeys
  readonly journal: ChangeJournal
  readonly feed: DecisionFeed
  readonly blocklist: BlocklistView
  /** admits and paces the long answers the routes above write */
  readonly streams: StreamGate
  start(): Promise<void>
  stop(): Promise<void>
}

export function bouncerService(init: Partial<BouncerServiceInit> = {}) {
  const journalCapacity = init.journalCapacity ?? DEFAULT_JOURNAL_CAPACITY
  return (components: BouncerServiceComponents): BouncerService => {
    const clock = components.clock ?? Date.now
    const log = components.logger.child({ component: 'bouncers' })
    const keys = new BouncerKeys(components.store, {
      clock,
      onError: (err) => log.warn({ err }, 'could not record a bouncer pull'),
    })
    const journal = new ChangeJournal({ capacity: journalCapacity, clock })
    const feed = new DecisionFeed(components.blocklist, journal, { clock })
    const streams = new StreamGate(init.streams, { clock })
    return {
      keys,
      journal,
      feed,
      blocklist: components.blocklist,
      streams,
      async start() {
        await keys.open()
        journal.follow(components.blocklist)
        // built a slice at a time from now on, so the first stream does not wait for (or stall others on) it
        void feed.snapshots.warm()
        log.debug({ bouncers: keys.count, journalCapacity }, 'bouncer API ready')
      },
      async stop() {
        streams.close()
        feed.snapshots.stop()
        journal.stop()
        await keys.flush()
      },
    }
  }
}
