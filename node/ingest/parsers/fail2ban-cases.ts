import { readFileSync } from 'node:fs'

/**
 * Test helper: reads one of fail2ban's regression logs (fail2ban/tests/files/logs/*). A comment
 * `# failJSON: {...}` describes the next log line: `match` (does fail2ban's filter fire on it), `host` (or `ip4`
 * / `ip6`), `time` (local time, Europe/Berlin in fail2ban's test runs), `desc`, and sometimes a `constraint` on
 * the filter mode. Log lines without a failJSON are still returned (in order, `expect` undefined) because
 * multi-line filters need them as context. Other comments (`# filterOptions`, `# addFILE`) are skipped.
 */
export interface Fail2banExpect {
  match: boolean
  host?: string
  time?: string
  user?: string
  desc?: string
  constraint?: string
}

export interface Fail2banCase {
  /** 1-based line number in the file */
  lineNo: number
  line: string
  expect: Fail2banExpect | undefined
}

export function readFail2banCases(path: string): Fail2banCase[] {
  const lines = readFileSync(path, 'utf8').split('\n')
  const cases: Fail2banCase[] = []
  let pending: Fail2banExpect | undefined
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].replace(/\r$/, '')
    if (raw.trim() === '') continue
    if (raw.startsWith('#')) {
      const m = /^#\s*failJSON:\s*(\{.*\})\s*$/.exec(raw)
      if (m !== null) {
        try {
          const j = JSON.parse(m[1]) as Record<string, unknown>
          pending = {
            match: j.match === true,
            host: (j.host ?? j.ip4 ?? j.ip6) as string | undefined,
            time: j.time as string | undefined,
            user: j.user as string | undefined,
            desc: j.desc as string | undefined,
            constraint: j.constraint as string | undefined,
          }
        } catch {
          pending = undefined
        }
      }
      continue
    }
    cases.push({ lineNo: i + 1, line: raw, expect: pending })
    pending = undefined
  }
  return cases
}
