/**
 * One problem with the configuration.
 * - `path`: dotted key (`api.port`, `p2p.bootstrap[1]`); '' when the problem is not about one key
 * - `value`: what was given (`[redacted]` for secrets); for `unreadable-file`, why the file could not be used
 * - `expected`: what would have been accepted
 * - `source`: where the value came from: a file path, an env var name, a `--flag`, or `default`
 */
export type ConfigIssue = {
  kind: 'invalid-value' | 'unknown-key' | 'unknown-variable' | 'unreadable-file'
  path: string
  value: unknown
  expected: string
  source: string
}

export class InvalidConfigError extends Error {
  override name = 'InvalidConfigError'
  readonly issues: readonly ConfigIssue[]

  constructor(issues: readonly ConfigIssue[]) {
    // One self-contained line per problem, so each still makes sense when grepped out of a log.
    super(issues.map((issue) => `invalid config: ${describeIssue(issue)}`).join('\n'))
    this.issues = issues
  }
}

function describeIssue(issue: ConfigIssue): string {
  switch (issue.kind) {
    case 'invalid-value':
      return `${issue.path || '(top level)'} = ${show(issue.value)} (from ${issue.source}): expected ${issue.expected}`
    case 'unknown-key':
      return `unknown key "${issue.path}" (from ${issue.source}): expected ${issue.expected}`
    case 'unknown-variable':
      return `unknown environment variable ${issue.source}: expected ${issue.expected}`
    case 'unreadable-file':
      return `cannot load config file ${issue.source}: ${String(issue.value)}`
  }
}

function show(value: unknown): string {
  if (value === undefined) return 'undefined'
  let text: string
  try {
    text = JSON.stringify(value) ?? String(value)
  } catch {
    text = String(value)
  }
  // a whole mistyped section would otherwise flood the line
  return text.length > 120 ? `${text.slice(0, 117)}...` : text
}
