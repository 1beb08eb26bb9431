import type * as z from 'zod'
import { readEnv } from './env-vars.ts'
import { InvalidConfigError } from './errors.ts'
import type { ConfigIssue } from './errors.ts'
import { readConfigFile } from './read-config-file.ts'
import { ShieldwallConfigSchema } from './schema.ts'
import type { ShieldwallConfig } from './schema.ts'
import { coerceString, isSecret, schemaAt, shapeOf } from './schema-walk.ts'

export type LoadConfigOptions = {
  /** config file (.yaml/.yml/.json); when absent, SHIELDWALL_CONFIG names it; with neither, no file is read */
  file?: string
  /** defaults to process.env */
  env?: Record<string, string | undefined>
  /** nested partial config from the command line, e.g. `{ api: { port: 8080 } }`; undefined values are ignored */
  cli?: Record<string, unknown>
}

/** dotted key → where its current value came from */
type Sources = Map<string, string>
type Layer = { data: Record<string, unknown>; sourceOf: (path: string[]) => string }

/**
 * Builds the config from defaults < file < SHIELDWALL_* env < CLI, later layers winning (objects merge,
 * arrays replace). Throws InvalidConfigError listing every problem at once, each with where it came from.
 */
export function loadConfig(opts: LoadConfigOptions = {}): ShieldwallConfig {
  const env = opts.env ?? process.env
  const issues: ConfigIssue[] = []
  const layers: Layer[] = []

  // an empty SHIELDWALL_CONFIG is how a shell unsets it for one command
  const file = opts.file ?? (env.SHIELDWALL_CONFIG || undefined)
  if (file !== undefined) {
    const read = readConfigFile(file)
    if ('issue' in read) issues.push(read.issue)
    else layers.push({ data: read.data, sourceOf: () => file })
  }

  const fromEnv = readEnv(env, ShieldwallConfigSchema)
  issues.push(...fromEnv.issues)
  for (const { variable, path, value } of fromEnv.settings) {
    layers.push({ data: nest(path, value), sourceOf: () => variable })
  }

  if (opts.cli !== undefined) {
    // CLI parsers hand over strings; convert them like env values so `--api-port 8080` is a number
    layers.push({
      data: coerceStrings(opts.cli, ShieldwallConfigSchema) as Record<string, unknown>,
      sourceOf: cliFlag,
    })
  }

  const raw: Record<string, unknown> = {}
  const sources: Sources = new Map()
  for (const layer of layers) merge(raw, layer.data, [], layer, sources)

  const result = ShieldwallConfigSchema.safeParse(raw, { reportInput: true, error: expectedFor })
  if (!result.success)
    issues.push(...result.error.issues.flatMap((issue) => toConfigIssues(issue, raw, sources)))
  if (issues.length > 0) throw new InvalidConfigError(issues)
  return result.data!
}

function toConfigIssues(issue: z.core.$ZodIssue, raw: unknown, sources: Sources): ConfigIssue[] {
  if (issue.code === 'unrecognized_keys') {
    const known = Object.keys(shapeOf(schemaAt(ShieldwallConfigSchema, issue.path)!) ?? {})
    return issue.keys.map((key) => {
      const path = [...issue.path, key]
      return {
        kind: 'unknown-key',
        path: dotted(path),
        value: valueAt(raw, path),
        expected: `one of ${known.join(', ')}`,
        source: sourceFor(path, sources),
      }
    })
  }
  // a record's key the schema refused (detect.scenarios.<name>): reported like an unknown key of an object
  if (issue.code === 'custom' && issue.params?.unknownKey === true) {
    return [
      {
        kind: 'unknown-key',
        path: dotted(issue.path),
        value: valueAt(raw, issue.path),
        expected: issue.message,
        source: sourceFor(issue.path, sources),
      },
    ]
  }
  const secret = isSecret(schemaAt(ShieldwallConfigSchema, issue.path))
  // defaults are filled in during parsing, so a failing default is only visible as the issue's input
  const value = 'input' in issue ? issue.input : valueAt(raw, issue.path)
  return [
    {
      kind: 'invalid-value',
      path: dotted(issue.path),
      value: secret ? '[redacted]' : value,
      expected: issue.message,
      source: sourceFor(issue.path, sources),
    },
  ]
}

/**
 * Per-parse error map: zod's defaults ("Invalid input: expected string, received number") read badly after
 * our own "expected". Messages set on the schema take precedence over this.
 */
function expectedFor(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      return issue.expected === 'array'
        ? 'a list'
        : /^[aeiou]/.test(issue.expected)
          ? `an ${issue.expected}`
          : `a ${issue.expected}`
    case 'invalid_value':
      return `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`
    case 'too_small':
      if (issue.origin === 'string') {
        return issue.minimum === 1 ? 'a non-empty string' : `a string of at least ${issue.minimum} characters`
      }
      if (issue.origin === 'array')
        return issue.minimum === 1 ? 'a non-empty list' : `a list of at least ${issue.minimum} items`
      return undefined
    case 'too_big':
      if (issue.origin === 'string') return `a string of at most ${issue.maximum} characters`
      if (issue.origin === 'array') return `a list of at most ${issue.maximum} items`
      return undefined
    default:
      return undefined
  }
}

function merge(
  target: Record<string, unknown>,
  data: Record<string, unknown>,
  at: string[],
  layer: Layer,
  sources: Sources,
) {
  for (const [key, value] of Object.entries(data)) {
    if (value === undefined) continue
    const path = [...at, key]
    sources.set(path.join('.'), layer.sourceOf(path))
    if (isPlainObject(value)) {
      const current = Object.hasOwn(target, key) ? target[key] : undefined
      const child = isPlainObject(current) ? current : {}
      setOwn(target, key, child)
      merge(child, value, path, layer, sources)
    } else {
      setOwn(target, key, value)
    }
  }
}

// A plain assignment of "__proto__" (JSON.parse makes it an ordinary key) would swap the prototype
// instead of adding a key, hiding it from the strict schema; defining it keeps it visible as unknown.
function setOwn(target: Record<string, unknown>, key: string, value: unknown) {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

function coerceStrings(value: unknown, schema: z.ZodType | undefined): unknown {
  if (schema === undefined) return value // unknown key: leave it for the schema to report
  if (typeof value === 'string') return coerceString(schema, value)
  if (!isPlainObject(value)) return value
  const out: Record<string, unknown> = {}
  for (const [key, child] of Object.entries(value))
    setOwn(out, key, coerceStrings(child, shapeOf(schema)?.[key]))
  return out
}

function nest(path: string[], value: unknown): Record<string, unknown> {
  return path.reduceRight<Record<string, unknown>>((inner, key) => ({ [key]: inner }), value as never)
}

/** `api.port` → `--api-port`; the CLI names its flags after the keys they override. */
function cliFlag(path: string[]): string {
  return `--${path.map((key) => key.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase()).join('-')}`
}

/** Array positions belong to the list that was set as a whole, so look up the key path before any index. */
function sourceFor(path: readonly PropertyKey[], sources: Sources): string {
  const end = path.findIndex((key) => typeof key !== 'string')
  return sources.get(dotted(end === -1 ? path : path.slice(0, end))) ?? 'default'
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let value = root
  for (const key of path) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) return undefined
    value = (value as Record<PropertyKey, unknown>)[key]
  }
  return value
}

function dotted(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (out, key) =>
      typeof key === 'number' ? `${out}[${key}]` : out === '' ? String(key) : `${out}.${String(key)}`,
    '',
  )
}
