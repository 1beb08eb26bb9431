import type * as z from 'zod'
import type { ConfigIssue } from './errors.ts'
import { coerceString, shapeOf } from './schema-walk.ts'

const PREFIX = 'SHIELDWALL_'

/** SHIELDWALL_* variables that are not config keys; anything else under the prefix must map to a key. */
export const NON_CONFIG_ENV_VARS: ReadonlySet<string> = new Set(['SHIELDWALL_CONFIG'])

export type EnvSetting = { variable: string; path: string[]; value: unknown }

/** `maxTtlSeconds` → `MAX_TTL_SECONDS`; digits stay with their word (`p2p` → `P2P`). */
export function upperSnake(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()
}

/**
 * Maps SHIELDWALL_* variables onto schema keys, coerced to the leaf types. A variable that names no leaf is
 * an issue rather than ignored: a misspelt variable would otherwise leave a setting silently at its default.
 */
export function readEnv(
  env: Record<string, string | undefined>,
  schema: z.ZodType,
): { settings: EnvSetting[]; issues: ConfigIssue[] } {
  const settings: EnvSetting[] = []
  const issues: ConfigIssue[] = []
  for (const [variable, raw] of Object.entries(env)) {
    if (!variable.startsWith(PREFIX) || raw === undefined || NON_CONFIG_ENV_VARS.has(variable)) continue
    const path = resolve(schema, variable.slice(PREFIX.length))
    if (path === undefined) {
      issues.push({
        kind: 'unknown-variable',
        path: '',
        value: '[not shown]', // could be a secret meant for a variable of another name
        expected: `one of ${suggestions(schema, variable.slice(PREFIX.length)).join(', ')}`,
        source: variable,
      })
      continue
    }
    settings.push({ variable, path: path.keys, value: coerceString(path.leaf, raw) })
  }
  return { settings, issues }
}

/**
 * Finds the leaf whose UPPER_SNAKE path spells `name`. Longer keys are tried first and a dead end
 * backtracks, so a key that is a prefix of another (`API` vs `API_TOKEN`) cannot shadow it.
 */
function resolve(schema: z.ZodType, name: string): { keys: string[]; leaf: z.ZodType } | undefined {
  const shape = shapeOf(schema)
  if (shape === undefined) return undefined
  const keys = Object.keys(shape).sort((a, b) => upperSnake(b).length - upperSnake(a).length)
  for (const key of keys) {
    const child = shape[key]
    const word = upperSnake(key)
    if (name === word && shapeOf(child) === undefined) return { keys: [key], leaf: child }
    if (name.startsWith(`${word}_`)) {
      const rest = resolve(child, name.slice(word.length + 1))
      if (rest !== undefined) return { keys: [key, ...rest.keys], leaf: rest.leaf }
    }
  }
  return undefined
}

/** The variables beside the deepest section `name` does spell, e.g. all SHIELDWALL_API_* for SHIELDWALL_API_PROT. */
function suggestions(schema: z.ZodType, name: string): string[] {
  let shape = shapeOf(schema)!
  let prefix = PREFIX
  let rest = name
  for (;;) {
    const section = Object.keys(shape).find(
      (key) => shapeOf(shape[key]) !== undefined && rest.startsWith(`${upperSnake(key)}_`),
    )
    if (section === undefined) break
    prefix += `${upperSnake(section)}_`
    rest = rest.slice(upperSnake(section).length + 1)
    shape = shapeOf(shape[section])!
  }
  const names = Object.keys(shape).map((key) =>
    shapeOf(shape[key]) === undefined ? prefix + upperSnake(key) : `${prefix}${upperSnake(key)}_*`,
  )
  return prefix === PREFIX ? [...names, ...NON_CONFIG_ENV_VARS] : names
}
