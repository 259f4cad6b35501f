// The bench's smaller commands (bench:profile, bench:instructions) end on
// bad input the same way: the reason on stderr, exit code 2, nothing run.

/** Ends `command` with `message` and exit code 2. */
export function exitWithUsage(command: string, message: string): never {
  process.stderr.write(`${command}: ${message}\n`)
  process.exit(2)
}

/** `value` as a positive integer, or `command` ends naming `flag`. */
export function positiveInteger(command: string, flag: string, value: string): number {
  const parsed = Number(value)
  if (!Number.isInteger(parsed) || parsed < 1) exitWithUsage(command, `${flag} takes a positive integer, not ${value}`)
  return parsed
}
