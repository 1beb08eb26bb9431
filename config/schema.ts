import { homedir } from 'node:os'
import { isAbsolute, join } from 'node:path'
import * as z from 'zod'

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
})

export type ShieldwallConfig = z.output<typeof ShieldwallConfigSchema>
/** What a config file or CLI override may contain before defaults are applied. */
export type ShieldwallConfigInput = z.input<typeof ShieldwallConfigSchema>
