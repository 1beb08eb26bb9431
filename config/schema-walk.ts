import * as z from 'zod'

// Env mapping, CLI coercion and error messages are derived from the schema itself, so adding a field never
// needs a second table kept in sync by hand.

/** The schema one optional/default/prefault/nullable wrapper down, or undefined if `schema` is no wrapper. */
function innerOf(schema: z.ZodType): z.ZodType | undefined {
  if (
    schema instanceof z.ZodOptional ||
    schema instanceof z.ZodDefault ||
    schema instanceof z.ZodPrefault ||
    schema instanceof z.ZodNullable
  ) {
    return schema.unwrap() as z.ZodType
  }
  return undefined
}

/** The schema under all its wrappers. */
export function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema
  for (let inner = innerOf(s); inner !== undefined; inner = innerOf(s)) s = inner
  return s
}

/** The fields of an object schema, or undefined for a leaf. */
export function shapeOf(schema: z.ZodType): Record<string, z.ZodType> | undefined {
  const s = unwrap(schema)
  return s instanceof z.ZodObject ? (s.shape as Record<string, z.ZodType>) : undefined
}

/** The schema at a key path; array indices step into the element schema. */
export function schemaAt(root: z.ZodType, path: readonly PropertyKey[]): z.ZodType | undefined {
  let s: z.ZodType | undefined = root
  for (const key of path) {
    if (s === undefined) return undefined
    const inner = unwrap(s)
    if (inner instanceof z.ZodArray && typeof key === 'number') s = inner.element as z.ZodType
    else s = typeof key === 'string' ? shapeOf(inner)?.[key] : undefined
  }
  return s
}

/** Marked with `.meta({ secret: true })` on the schema or any wrapper around it. */
export function isSecret(schema: z.ZodType | undefined): boolean {
  for (let s = schema; s !== undefined; s = innerOf(s)) {
    if (s.meta()?.secret === true) return true
  }
  return false
}

const BOOLEAN_WORDS: Record<string, boolean> = {
  true: true,
  false: false,
  1: true,
  0: false,
  yes: true,
  no: false,
}

/**
 * Turns a string from the environment or the command line into the leaf's type. A string that does not
 * convert is returned unchanged so validation reports it as the operator wrote it.
 */
export function coerceString(schema: z.ZodType, raw: string): unknown {
  const s = unwrap(schema)
  if (s instanceof z.ZodNumber) return /^[+-]?\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw) : raw
  if (s instanceof z.ZodBoolean) return BOOLEAN_WORDS[raw.trim().toLowerCase()] ?? raw
  if (s instanceof z.ZodArray) {
    return raw
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '')
      .map((item) => coerceString(s.element as z.ZodType, item))
  }
  return raw
}
