import type { BlocklistView } from '../blocklist/block-entry.ts'
import type { Logger } from '../logging/logger.ts'
import type { Store } from '../store/open-store.ts'
import { BouncerKeys } from './bouncer-keys.ts'
import { ChangeJournal, DEFAULT_JOURNAL_CAPACITY } from './change-journal.ts'
import { DecisionFeed } from './decision-feed.ts'

export interface BouncerServiceInit {
  /** blocklist changes held for bouncer deltas and SSE resumes */
  journalCapacity: number
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
    return {
      keys,
      journal,
      feed,
      blocklist: components.blocklist,
      async start() {
        await keys.open()
        journal.follow(components.blocklist)
        log.debug({ bouncers: keys.count, journalCapacity }, 'bouncer API ready')
      },
      async stop() {
        journal.stop()
        await keys.flush()
      },
    }
  }
}
