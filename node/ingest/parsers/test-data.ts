import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/**
 * Test helper: real data sets live in `../shared/data/` relative to the project root and are never committed.
 * Tests over them skip when the folder is absent (a fresh clone without the data).
 */
export const DATA_DIR = fileURLToPath(new URL('../../../../shared/data/', import.meta.url))

export function hasData(relative: string): boolean {
  return existsSync(DATA_DIR + relative)
}

export function dataLines(relative: string): string[] {
  return readFileSync(DATA_DIR + relative, 'utf8')
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l.trim() !== '')
}
