import pg from 'pg'
import { DoctorError } from '../doctor/doctor-error.js'
import { SEVERITIES, type Severity } from '../doctor/finding.js'
import { formatReport } from '../doctor/format-report.js'
import { hasFindingsAtLeast, runDoctor, type DoctorReport } from '../doctor/run-doctor.js'
import { checkUrl } from './check-url.js'
import type { CliIo } from './io.js'
import { parseOptions } from './parse-options.js'
import { safeMessage } from './safe-message.js'
import { UsageError } from './usage-error.js'

export const DOCTOR_HELP = `Usage: tenantscope doctor [options]

Audits a live PostgreSQL for row-level-security mistakes. Only reads the catalog.

Options:
  --database-url <url>    connection string (default: $DATABASE_URL)
  --role <name>           the role your application connects as (default: the connected role)
  --tenant-column <name>  the column that makes a table a tenant table (default: tenant_id)
  --setting <name>        the setting policies read the tenant from (default: app.current_tenant)
  --schema <name>         only tables in this schema (repeatable)
  --table <name>          only report on this table (repeatable)
  --fail-on <severity>    exit 1 on findings at or above: error, warning or info (default: error)
  --json                  print the report as JSON
  -h, --help              show this help

Exit codes: 0 no findings at or above --fail-on, 1 findings, 2 bad arguments or cannot connect.
`

/** @internal */
export async function doctorCommand(args: string[], io: CliIo): Promise<number> {
  const values = parseOptions(args, {
    'database-url': { type: 'string' },
    role: { type: 'string' },
    'tenant-column': { type: 'string' },
    setting: { type: 'string' },
    schema: { type: 'string', multiple: true },
    table: { type: 'string', multiple: true },
    'fail-on': { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  })
  if (values.help) {
    io.stdout(DOCTOR_HELP)
    return 0
  }
  const failOn = (values['fail-on'] ?? 'error') as Severity
  if (!SEVERITIES.includes(failOn)) throw new UsageError('--fail-on must be error, warning or info')
  const url = values['database-url'] ?? io.env.DATABASE_URL
  if (!url) throw new UsageError('no database: pass --database-url <url> or set DATABASE_URL')
  checkUrl(url)

  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000, application_name: 'tenantscope doctor' })
  // A dropped connection emits 'error' on the client; the pending query reports it.
  client.on('error', () => undefined)
  try {
    await client.connect()
  } catch (error) {
    throw new UsageError(`cannot connect to the database: ${safeMessage(error, url)}`)
  }
  let report: DoctorReport
  try {
    report = await runDoctor(client, {
      role: values.role,
      tenantColumn: values['tenant-column'],
      setting: values.setting,
      schemas: values.schema,
      tables: values.table,
    })
  } catch (error) {
    throw new UsageError(DoctorError.is(error) ? error.message : `reading the catalog failed: ${safeMessage(error, url)}`)
  } finally {
    await client.end().catch(() => undefined)
  }
  io.stdout(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report))
  return hasFindingsAtLeast(report, failOn) ? 1 : 0
}
