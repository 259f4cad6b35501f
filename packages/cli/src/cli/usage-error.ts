/** @internal Bad arguments or an unreachable database: exit code 2, one line, no stack. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}
