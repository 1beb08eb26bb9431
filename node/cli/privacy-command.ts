import { parseArgs } from 'node:util'
import { computeEpsilon, type PrivacySpent, type RdpConversion } from '../../crypto/privacy/index.ts'
import { UsageError } from './usage-error.ts'

export const PRIVACY_USAGE = `usage:
  shieldwall privacy epsilon --sample-rate Q --noise-multiplier SIGMA --steps T --delta D
                             [--conversion tight|classic] [--json]
      epsilon of T steps of DP-SGD (sampled Gaussian mechanism, RDP accountant, Opacus' orders).
      tight: Balle et al. 2020 (Opacus' default); classic: Mironov 2017 (TF-Privacy's).
`

const CONVERSIONS: Record<string, RdpConversion> = {
  tight: 'balle2020',
  balle2020: 'balle2020',
  classic: 'classic',
}

export interface PrivacyEpsilonResult {
  epsilon: number
  delta: number
  /** the RDP order that attains the minimum */
  order: number
  conversion: RdpConversion
}

function numberFlag(
  name: string,
  text: string | undefined,
  check: (n: number) => boolean,
  want: string,
): number {
  if (text === undefined) throw new UsageError(`privacy epsilon: --${name} is required\n\n${PRIVACY_USAGE}`)
  const n = text.trim() === '' ? NaN : Number(text)
  if (!check(n)) throw new UsageError(`privacy epsilon: --${name} ${text}: expected ${want}`)
  return n
}

/** Parses `privacy epsilon` flags and computes; throws UsageError for anything the operator typed wrong. */
export function privacyEpsilon(argv: string[]): PrivacyEpsilonResult & { json: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      'sample-rate': { type: 'string' },
      'noise-multiplier': { type: 'string' },
      steps: { type: 'string' },
      delta: { type: 'string' },
      conversion: { type: 'string', default: 'tight' },
      json: { type: 'boolean', default: false },
    },
  })
  const sampleRate = numberFlag(
    'sample-rate',
    values['sample-rate'],
    (q) => q > 0 && q <= 1,
    'a number in (0, 1]',
  )
  const noiseMultiplier = numberFlag(
    'noise-multiplier',
    values['noise-multiplier'],
    (s) => s > 0 && Number.isFinite(s),
    'a number > 0 (without noise there is no privacy guarantee)',
  )
  const steps = numberFlag('steps', values.steps, (t) => Number.isSafeInteger(t) && t >= 0, 'an integer >= 0')
  const delta = numberFlag('delta', values.delta, (d) => d > 0 && d < 1, 'a number in (0, 1), e.g. 1e-5')
  const conversion = CONVERSIONS[values.conversion]
  if (conversion === undefined) {
    throw new UsageError(`privacy epsilon: --conversion ${values.conversion}: expected tight or classic`)
  }
  const spent: PrivacySpent = computeEpsilon({
    sampleRate,
    noiseMultiplier,
    steps,
    delta,
    method: conversion,
  })
  return { ...spent, conversion, json: values.json }
}

export function formatPrivacyEpsilon(result: PrivacyEpsilonResult, json: boolean): string {
  const { epsilon, delta, order } = result
  if (json) return JSON.stringify({ epsilon, delta, order: Number.isNaN(order) ? null : order }) + '\n'
  const how = result.conversion === 'classic' ? 'classic conversion' : 'Balle et al. 2020 conversion'
  const at = Number.isNaN(order) ? 'nothing spent' : `RDP order ${order}, ${how}`
  return `epsilon ${epsilon.toFixed(4)} at delta ${delta} (${at})\n`
}

/** `shieldwall privacy <subcommand>` */
export async function privacy(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv
  if (sub === undefined || sub === 'help' || sub === '--help' || sub === '-h' || rest.includes('--help')) {
    return void process.stdout.write(PRIVACY_USAGE)
  }
  if (sub !== 'epsilon') throw new UsageError(`privacy: unknown subcommand "${sub}"\n\n${PRIVACY_USAGE}`)
  const { json, ...result } = privacyEpsilon(rest)
  process.stdout.write(formatPrivacyEpsilon(result, json))
}
