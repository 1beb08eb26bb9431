import type { Progress } from '../run-scenario.ts'

export interface ProgressSink {
  update(p: Progress): void
  done(): void
}

/**
 * A one-line bar redrawn in place on a terminal; on a pipe or a CI log, one plain line per phase and per
 * tenth of the run instead of a carriage-return storm.
 */
export function progressBar(stream: NodeJS.WriteStream = process.stderr, width = 30): ProgressSink {
  const tty = stream.isTTY === true
  let lastPhase = ''
  let lastTenth = -1
  let drawn = false
  return {
    update(p) {
      const frac = p.total > 0 ? Math.min(1, p.done / p.total) : 0
      if (tty) {
        const fill = Math.round(frac * width)
        const bar = '#'.repeat(fill) + '-'.repeat(width - fill)
        const count =
          p.phase === 'starting' || p.phase === 'warming up'
            ? `${p.done}/${p.total} nodes`
            : `${Math.round(frac * 100)}%`
        stream.write(
          `\r\x1b[2K${p.phase.padEnd(10)} [${bar}] ${count}  blocks ${p.blocks}  alerts ${p.alerts}`,
        )
        drawn = true
        return
      }
      const tenth = Math.floor(frac * 10)
      if (p.phase !== lastPhase || (p.phase === 'running' && tenth !== lastTenth)) {
        stream.write(`${p.phase} ${Math.round(frac * 100)}% blocks=${p.blocks} alerts=${p.alerts}\n`)
        lastPhase = p.phase
        lastTenth = tenth
      }
    },
    done() {
      if (tty && drawn) stream.write('\r\x1b[2K')
    },
  }
}
