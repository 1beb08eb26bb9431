import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { Logger } from '../logging/logger.ts'
import type { ShieldwallHost } from './create-host.ts'

export interface BootstrapRedialInit {
  /** the configured bootstrap peers (`p2p.bootstrap`), each with its `/p2p/<id>` */
  list: string[]
  /** first retry after a failed round; doubles up to `maxDelayMs` */
  minDelayMs: number
  maxDelayMs: number
  /** one dial attempt */
  dialTimeoutMs: number
}

export interface BootstrapRedialComponents {
  libp2p: ShieldwallHost
  logger: Logger
}

const DEFAULTS: BootstrapRedialInit = {
  list: [],
  minDelayMs: 1000,
  maxDelayMs: 60_000,
  dialTimeoutMs: 10_000,
}

/**
 * Dials the configured bootstrap peers whenever the node has no connection at all: at start, and again with a
 * bounded exponential backoff after it lost every peer (a network outage, a partition, all peers restarting).
 * `@libp2p/bootstrap` only discovers its list once and rejects `/memory/` addresses; this works for every
 * transport the host has, which is what an operator needs after losing all peers.
 */
export class BootstrapRedial {
  readonly #init: BootstrapRedialInit
  readonly #c: BootstrapRedialComponents
  readonly #log: Logger
  readonly #addrs: Multiaddr[]
  #delay: number
  #timer?: NodeJS.Timeout
  #running = false
  #stopped = true
  /** completed dial rounds, for tests and status */
  rounds = 0

  constructor(init: BootstrapRedialInit, components: BootstrapRedialComponents) {
    this.#init = init
    this.#c = components
    this.#log = components.logger.child({ component: 'bootstrap-redial' })
    this.#delay = init.minDelayMs
    this.#addrs = []
    for (const text of init.list) {
      try {
        this.#addrs.push(multiaddr(text))
      } catch (err) {
        this.#log.warn({ err, addr: text }, 'ignoring an unreadable bootstrap address')
      }
    }
  }

  start(): void {
    if (this.#addrs.length === 0) return
    this.#stopped = false
    this.#c.libp2p.addEventListener('peer:disconnect', this.#onDisconnect)
    this.#schedule(0)
  }

  stop(): void {
    this.#stopped = true
    this.#c.libp2p.removeEventListener('peer:disconnect', this.#onDisconnect)
    clearTimeout(this.#timer)
    this.#timer = undefined
  }

  /** Dials every bootstrap peer not connected now, whatever the connection count (e.g. after a partition heals). */
  async dialAll(): Promise<number> {
    const host = this.#c.libp2p
    const connected = new Set(host.getConnections().map((c) => c.remotePeer.toString()))
    const self = host.peerId.toString()
    const due = this.#addrs.filter((ma) => {
      const id = ma.getComponents().findLast((c) => c.name === 'p2p')?.value
      return id !== self && (id === undefined || !connected.has(id))
    })
    const results = await Promise.allSettled(
      due.map((ma) => host.dial(ma, { signal: AbortSignal.timeout(this.#init.dialTimeoutMs) })),
    )
    this.rounds++
    return results.filter((r) => r.status === 'fulfilled').length
  }

  readonly #onDisconnect = (): void => {
    if (this.#c.libp2p.getConnections().length > 0) return
    this.#log.info('lost every connection: redialling the bootstrap peers')
    this.#delay = this.#init.minDelayMs
    this.#schedule(0)
  }

  #schedule(ms: number): void {
    if (this.#stopped) return
    clearTimeout(this.#timer)
    this.#timer = setTimeout(() => void this.#tick(), ms)
    this.#timer.unref()
  }

  async #tick(): Promise<void> {
    if (this.#stopped || this.#running) return
    if (this.#c.libp2p.getConnections().length > 0) {
      // connected: nothing to do until the last connection goes (#onDisconnect)
      this.#delay = this.#init.minDelayMs
      return
    }
    this.#running = true
    try {
      const ok = await this.dialAll()
      if (ok > 0) {
        this.#delay = this.#init.minDelayMs
        return
      }
      this.#log.debug({ retryInMs: this.#delay }, 'no bootstrap peer answered')
      this.#schedule(this.#delay)
      this.#delay = Math.min(this.#init.maxDelayMs, this.#delay * 2)
    } catch (err) {
      this.#log.debug({ err }, 'bootstrap redial failed')
      this.#schedule(this.#delay)
    } finally {
      this.#running = false
    }
  }
}

export function bootstrapRedial(
  init: Partial<BootstrapRedialInit> = {},
): (components: BootstrapRedialComponents) => BootstrapRedial {
  const merged: BootstrapRedialInit = {
    ...DEFAULTS,
    ...(Object.fromEntries(
      Object.entries(init).filter(([, v]) => v !== undefined),
    ) as Partial<BootstrapRedialInit>),
  }
  return (components) => new BootstrapRedial(merged, components)
}
