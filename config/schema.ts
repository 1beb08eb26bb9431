import { homedir } from 'node:os'
import { isAbsolute, join } from 'node:path'
import * as z from 'zod'
import { FORMATS } from '../node/ingest/parsers/index.ts'

// Every object is strict so a typo in a key is an error instead of a silently ignored setting, and every
// field has a default (or is optional) so `{}` parses to a complete config. Sections use `.prefault({})`
// rather than `.default({})`: zod returns a `.default()` value as-is, while a prefault is parsed, so the
// section's own field defaults apply.
//
// To add a section: define `FooSchema` (a z.strictObject whose fields all have defaults) and add
// `foo: FooSchema.prefault({})` to ShieldwallConfigSchema. Env vars (SHIELDWALL_FOO_*), CLI coercion and
// error messages are all derived from the schema.

/** Whole numbers in a range; one message for every failure (wrong type, fraction, out of range). */
function int(min: number, max?: number) {
  const expected = max === undefined ? `an integer of at least ${min}` : `an integer from ${min} to ${max}`
  const schema = z.int({ error: expected }).min(min, { error: expected })
  return max === undefined ? schema : schema.max(max, { error: expected })
}

/** A probability or confidence. */
function fraction() {
  const expected = 'a number from 0 to 1'
  return z.number({ error: expected }).min(0, { error: expected }).max(1, { error: expected })
}

const multiaddr = z
  .string()
  .startsWith('/', { error: 'a multiaddr starting with "/", e.g. /ip4/0.0.0.0/tcp/7421' })

// A bootstrap peer must name its peer id, otherwise the dial cannot be authenticated.
const peerMultiaddr = multiaddr.includes('/p2p/', {
  error: 'a multiaddr with a peer id, e.g. /dns4/boot.example.org/tcp/7421/p2p/12D3KooW...',
})

/** `$XDG_DATA_HOME/shieldwall`, else `~/.local/share/shieldwall`; the XDG spec says to ignore a relative value. */
export function defaultDataDir(env: Record<string, string | undefined> = process.env): string {
  const xdg = env.XDG_DATA_HOME
  const base = xdg !== undefined && isAbsolute(xdg) ? xdg : join(homedir(), '.local', 'share')
  return join(base, 'shieldwall')
}

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

export const LogSchema = z.strictObject({
  level: z.enum(LOG_LEVELS).default('info'),
})

export const ApiSchema = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  port: int(0, 65535).default(7420),
  // secret: error messages print "[redacted]" instead of the value
  token: z.string().min(16).meta({ secret: true }).optional(),
  enabled: z.boolean().default(true),
})

export const P2pSchema = z.strictObject({
  // factories, so no two parsed configs share (and can mutate) one default array
  listen: z.array(multiaddr).default(() => ['/ip4/0.0.0.0/tcp/7421']),
  announce: z.array(multiaddr).default(() => []),
  bootstrap: z.array(peerMultiaddr).default(() => []),
  dht: z
    .strictObject({
      enabled: z.boolean().default(true),
      protocolPrefix: z
        .string()
        .startsWith('/', { error: 'a protocol prefix starting with "/"' })
        .default('/shieldwall'),
    })
    .prefault({}),
  maxConnections: int(1).default(200),
})

export const AlertsSchema = z
  .strictObject({
    defaultTtlSeconds: int(1).default(86_400),
    maxTtlSeconds: int(1).default(2_592_000),
    maxClockSkewSeconds: int(0).default(30),
    maxPerSenderPerMinute: int(1).default(120),
    maxMessageBytes: int(256, 1_048_576).default(16_384),
  })
  .superRefine((alerts, ctx) => {
    // Reported on the key the operator most likely changed; the message carries the limit it broke.
    if (alerts.defaultTtlSeconds > alerts.maxTtlSeconds) {
      ctx.addIssue({
        code: 'custom',
        path: ['defaultTtlSeconds'],
        input: alerts.defaultTtlSeconds,
        message: `at most alerts.maxTtlSeconds (${alerts.maxTtlSeconds})`,
      })
    }
  })

// Log formats the ingest parsers understand, plus `auto` (sniffed from the first lines of the file).
export const SOURCE_FORMATS = ['auto', ...FORMATS] as const

export const SourceSchema = z.strictObject({
  path: z.string().min(1, { error: 'a path to a log file' }),
  format: z.enum(SOURCE_FORMATS, { error: `one of ${SOURCE_FORMATS.join(', ')}` }).default('auto'),
  // A new file is read from its end like `tail -F`: history is for `shieldwall detect`, not for live bans.
  startAt: z.enum(['end', 'beginning']).default('end'),
  /** syslog lines carry no time zone: minutes east of UTC of the logging host (default UTC) */
  utcOffsetMinutes: z
    .int()
    .min(-14 * 60)
    .max(14 * 60)
    .optional(),
})

export const ScenarioParamsSchema = z.strictObject({
  enabled: z.boolean().optional(),
  capacity: int(0).optional(),
  leakSeconds: z.number().positive({ error: 'a positive number of seconds' }).optional(),
  banSeconds: int(1).optional(),
  confidence: fraction().optional(),
})

export const DetectSchema = z.strictObject({
  /** combined confidence at which findings become a decision (ban) */
  threshold: fraction().default(0.7),
  /** per-address state is capped; the least recently seen address is forgotten first */
  maxTrackedIps: int(1000).default(200_000),
  /** overrides of the built-in scenarios by name, e.g. { "ssh-bf": { "capacity": 3 } } */
  scenarios: z.record(z.string(), ScenarioParamsSchema).default(() => ({})),
  /** repeat offenders: each new decision multiplies the ban by this factor... */
  banGrowthFactor: z.number().min(1).default(2),
  /** ...up to this long */
  maxBanSeconds: int(60).default(7 * 24 * 3600),
  anomaly: z
    .strictObject({
      enabled: z.boolean().default(true),
      threshold: fraction().default(0.65),
    })
    .prefault({}),
  stats: z.strictObject({ enabled: z.boolean().default(true) }).prefault({}),
  /** publish each local decision to the network as a signed alert */
  publishAlerts: z.boolean().default(true),
})

export const ShieldwallConfigSchema = z.strictObject({
  nodeName: z.string().min(1).optional(),
  dataDir: z
    .string()
    .min(1)
    .default(() => defaultDataDir()),
  log: LogSchema.prefault({}),
  api: ApiSchema.prefault({}),
  p2p: P2pSchema.prefault({}),
  alerts: AlertsSchema.prefault({}),
  sources: z.array(SourceSchema).default(() => []),
  detect: DetectSchema.prefault({}),
})

export type ShieldwallConfig = z.output<typeof ShieldwallConfigSchema>
/** What a config file or CLI override may contain before defaults are applied. */
export type ShieldwallConfigInput = z.input<typeof ShieldwallConfigSchema>
