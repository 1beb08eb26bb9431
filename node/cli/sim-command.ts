import { writeFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { writeHtmlReport } from '../../sim/report/html-report.ts'
import { progressBar } from '../../sim/report/progress-bar.ts'
import { summaryTable } from '../../sim/report/summary-table.ts'
import { MEMBERS_PER_WORKER, runScenario } from '../../sim/run-scenario.ts'
import { SCENARIOS, scenarioByName } from '../../sim/scenarios/index.ts'
import { UsageError } from './usage-error.ts'

export const SIM_USAGE = `usage:
  shieldwall sim [--scenario NAME] [--nodes N] [--seed S] [--duration SECONDS] [--report FILE.json]
                 [--html FILE.html] [--transport memory|tcp] [--hostile FRACTION] [--trust community|organic]
                 [--workers N] [--log-level LEVEL] [--keep-data]
  scenarios: ${Object.keys(SCENARIOS).join(', ')}
  Runs N real nodes in this process and reports propagation, delivery, false and missed blocks, cost.
  --workers: threads that run nodes (default: one per ${MEMBERS_PER_WORKER} nodes, at most one per core); members of
  different threads meet over TCP loopback, of one thread over --transport.
  Blocks are read from each node's blocklist, trust from its reputation book. --trust community (default): honest
  operators list each other in reputation.trustedPeers; organic: no pins, a warm-up earns trust by corroboration.
  Exits 1 when an assertion of the scenario fails.
`

function positiveNumber(flag: string, text: string | undefined, integer: boolean): number | undefined {
  if (text === undefined) return undefined
  const n = Number(text)
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n)))
    throw new UsageError(`--${flag} ${text}: expected a positive ${integer ? 'integer' : 'number'}`)
  return n
}

/** `shieldwall sim`: run one scenario, print the summary, write the JSON and HTML reports. */
export async function sim(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      scenario: { type: 'string', default: 'distributed-bruteforce' },
      nodes: { type: 'string' },
      seed: { type: 'string', default: '1' },
      duration: { type: 'string' },
      report: { type: 'string' },
      html: { type: 'string' },
      transport: { type: 'string', default: 'memory' },
      hostile: { type: 'string' },
      trust: { type: 'string' },
      workers: { type: 'string' },
      'log-level': { type: 'string', default: 'silent' },
      'keep-data': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) return void process.stdout.write(SIM_USAGE)
  let scenario
  try {
    scenario = scenarioByName(values.scenario)
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  if (values.transport !== 'memory' && values.transport !== 'tcp')
    throw new UsageError(`--transport ${values.transport}: expected memory or tcp`)
  if (values.trust !== undefined && values.trust !== 'community' && values.trust !== 'organic')
    throw new UsageError(`--trust ${values.trust}: expected community or organic`)
  const levels = ['silent', 'error', 'warn', 'info', 'debug']
  if (!levels.includes(values['log-level']))
    throw new UsageError(`--log-level: expected one of ${levels.join(', ')}`)
  const seed = Number(values.seed)
  if (!Number.isInteger(seed) || seed < 0)
    throw new UsageError(`--seed ${values.seed}: expected an integer >= 0`)
  const hostile = values.hostile === undefined ? undefined : Number(values.hostile)
  if (hostile !== undefined && !(hostile >= 0 && hostile < 1))
    throw new UsageError(`--hostile ${values.hostile}: expected a fraction from 0 to below 1`)
  const nodes = positiveNumber('nodes', values.nodes, true)
  if (nodes !== undefined && nodes < 2) throw new UsageError('--nodes: at least 2')
  const workers = positiveNumber('workers', values.workers, true)
  if (workers !== undefined && workers > (nodes ?? scenario.defaults.nodes))
    throw new UsageError(`--workers ${workers}: more threads than nodes`)
  if (workers !== undefined && workers > 1 && scenario.learning !== undefined)
    throw new UsageError(`--workers: ${scenario.name} runs its nodes in one thread`)

  const bar = progressBar()
  let report
  try {
    report = await runScenario({
      scenario,
      seed,
      transport: values.transport,
      ...(values.trust !== undefined ? { trust: values.trust } : {}),
      logLevel: values['log-level'] as 'silent',
      keepData: values['keep-data'] === true,
      ...(nodes !== undefined ? { nodes } : {}),
      ...(workers !== undefined ? { workers } : {}),
      ...(hostile !== undefined ? { hostileFraction: hostile } : {}),
      ...(values.duration !== undefined
        ? { durationSeconds: positiveNumber('duration', values.duration, false) }
        : {}),
      onProgress: (p) => bar.update(p),
    })
  } finally {
    bar.done()
  }
  process.stdout.write(summaryTable(report))
  if (values.report !== undefined) await writeFile(values.report, JSON.stringify(report, null, 2) + '\n')
  if (values.html !== undefined) await writeHtmlReport(values.html, report)
  if (!report.passed) process.exitCode = 1
}
