import { CITUS_HELP, citusCommand } from './citus-command.js'
import { DIFF_HELP, diffCommand } from './diff-command.js'
import { DOCTOR_HELP, doctorCommand } from './doctor-command.js'
import type { CliIo } from './io.js'
import { safeMessage } from './safe-message.js'
import { SQL_HELP, sqlCommand } from './sql-command.js'
import { TENANT_HELP, tenantCommand } from './tenant-command.js'
import { TOP_HELP, topCommand } from './top-command.js'
import { UsageError } from './usage-error.js'

const HELP = `Usage: tenantscope <command> [options]

Commands:
  doctor   audit a live database for row-level-security mistakes
  diff     what a migration made worse: the doctor on two databases
  sql      print or copy tenantscope's migrations
  citus    isolate or move a tenant on Citus, per-tenant statistics
  tenant   export, import or erase one tenant's rows
  top      a live table of per-tenant activity (pg_stat_activity)

Run tenantscope <command> --help for its options.
`

const COMMAND_HELP: Readonly<Record<string, string>> = {
  citus: CITUS_HELP,
  doctor: DOCTOR_HELP,
  diff: DIFF_HELP,
  sql: SQL_HELP,
  tenant: TENANT_HELP,
  top: TOP_HELP,
}

/** @internal Runs one CLI invocation and returns its exit code; never throws. */
export async function main(args: string[], io: CliIo, version: string): Promise<number> {
  const [command, ...rest] = args
  try {
    switch (command) {
      case 'doctor':
        return await doctorCommand(rest, io, version)
      case 'diff':
        return await diffCommand(rest, io)
      case 'sql':
        return await sqlCommand(rest, io)
      case 'citus':
        return await citusCommand(rest, io)
      case 'tenant':
        return await tenantCommand(rest, io)
      case 'top':
        return await topCommand(rest, io, { tty: io.isTTY ?? false, signal: io.signal })
      case '--version':
      case '-v':
        io.stdout(`${version}\n`)
        return 0
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        io.stdout(command === 'help' ? (COMMAND_HELP[rest[0] ?? ''] ?? HELP) : HELP)
        return command === undefined ? 2 : 0
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command.slice(0, 40))} (expected citus, doctor, diff, sql, tenant or top)`)
    }
  } catch (error) {
    // One line, never a stack trace, never the connection string.
    const prefix = command !== undefined && command in COMMAND_HELP ? `tenantscope ${command}` : 'tenantscope'
    io.stderr(`${prefix}: ${error instanceof UsageError ? error.message : `unexpected error: ${safeMessage(error)}`}\n`)
    return 2
  }
}
