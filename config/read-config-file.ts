import { readFileSync } from 'node:fs'
import { extname } from 'node:path'
import { parse as parseYaml } from 'yaml'
import type { ConfigIssue } from './errors.ts'

const FORMATS: Record<string, 'YAML' | 'JSON'> = { '.yaml': 'YAML', '.yml': 'YAML', '.json': 'JSON' }

/** The parsed contents of a config file (format chosen by extension), or why it could not be used. */
export function readConfigFile(file: string): { data: Record<string, unknown> } | { issue: ConfigIssue } {
  const problem = (value: string, expected: string): { issue: ConfigIssue } => ({
    issue: { kind: 'unreadable-file', path: '', value, expected, source: file },
  })

  const format = FORMATS[extname(file).toLowerCase()]
  if (format === undefined) {
    return problem(`unsupported extension "${extname(file)}"`, 'a .yaml, .yml or .json file')
  }

  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    return problem(code === 'ENOENT' ? 'no such file' : (err as Error).message, `a readable ${format} file`)
  }

  let data: unknown
  try {
    data = format === 'JSON' ? JSON.parse(text) : parseYaml(text)
  } catch (err) {
    // yaml's message is "<reason> at line L, column C:" then a code excerpt: keep the first line. Older V8
    // JSON messages quote the text, newlines included: fold them so the issue stays on one line.
    const { message: raw } = err as Error
    const message = format === 'YAML' ? raw.split('\n')[0].replace(/:$/, '') : raw.replace(/\s+/g, ' ')
    return problem(`invalid ${format}: ${message}`, `valid ${format}`)
  }

  // an empty (or all-comments) YAML file parses to null: a file that sets nothing
  if (data === null || data === undefined) return { data: {} }
  if (typeof data !== 'object' || Array.isArray(data)) {
    return {
      issue: {
        kind: 'invalid-value',
        path: '',
        value: data,
        expected: 'a mapping of config keys',
        source: file,
      },
    }
  }
  return { data: data as Record<string, unknown> }
}
