import { CITUS_HELP, citusCommand } from './citus-command.js'
import { DOCTOR_HELP, doctorCommand } from './doctor-command.js'
import type { CliIo } from './io.js'
import { safeMessage } from './safe-message.js'
import { SQL_HELP, sqlCommand } from './sql-command.js'
import { UsageError } from './usage-error.js'

const HELP = `Usage: tenantscope <command> [options]

Commands:
  doctor   audit a live database for row-level-security mistakes
  sql      print or copy tenantscope's migrations
  citus    isolate or move a tenant on Citus, per-tenant statistics

Run tenantscope <command> --help for its options.
`

/** @internal Runs one CLI invocation and returns its exit code; never throws. */
export async function main(args: string[], io: CliIo, version: string): Promise<number> {
  const [command, ...rest] = args
  try {
    switch (command) {
      case 'doctor':
        return await doctorCommand(rest, io)
      case 'sql':
        return await sqlCommand(rest, io)
      case 'citus':
        return await citusCommand(rest, io)
      case '--version':
      case '-v':
        io.stdout(`${version}\n`)
        return 0
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        io.stdout(command === 'help' && rest[0] === 'doctor' ? DOCTOR_HELP : command === 'help' && rest[0] === 'sql' ? SQL_HELP : command === 'help' && rest[0] === 'citus' ? CITUS_HELP : HELP)
        return command === undefined ? 2 : 0
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command.slice(0, 40))} (expected doctor, sql or citus)`)
    }
  } catch (error) {
    // One line, never a stack trace, never the connection string.
    const prefix = command === 'doctor' || command === 'sql' || command === 'citus' ? `tenantscope ${command}` : 'tenantscope'
    io.stderr(`${prefix}: ${error instanceof UsageError ? error.message : `unexpected error: ${safeMessage(error)}`}\n`)
    return 2
  }
}
