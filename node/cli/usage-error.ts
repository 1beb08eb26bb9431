/** A command used wrongly: the CLI prints the message alone (no stack) and exits with 2. */
export class UsageError extends Error {
  override name = 'UsageError'
}
