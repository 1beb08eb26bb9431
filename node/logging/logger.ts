import { pino, type Logger, type LevelWithSilent } from 'pino'

export type { Logger }

export interface LoggerInit {
  level?: LevelWithSilent
  /** prefix of every line, e.g. `node-07`, so the logs of a simulated network can be told apart */
  nodeName?: string
  /** human-readable lines instead of JSON; defaults to whether stderr is a terminal */
  pretty?: boolean
  destination?: pino.DestinationStream
}

/**
 * One root logger per node; components take `logger.child({ component: 'alerts' })`. JSON lines for machines
 * (journald, Loki), pretty lines when a person is watching a terminal.
 */
export function createLogger(init: LoggerInit = {}): Logger {
  const level = init.level ?? 'info'
  const base = init.nodeName !== undefined ? { node: init.nodeName } : {}
  const pretty = init.pretty ?? (process.stderr.isTTY === true && init.destination === undefined)
  if (pretty) {
    return pino({
      level,
      base,
      transport: {
        target: 'pino-pretty',
        options: { destination: 2, colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' },
      },
    })
  }
  return pino({ level, base }, init.destination ?? pino.destination({ dest: 2, sync: false }))
}

/** For tests and library use: a logger that drops everything. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' })
}
