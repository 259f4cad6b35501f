import { fixScript, formatJunit, formatReport, formatSarif, hasFindingsAtLeast, SEVERITIES, type Severity } from '@tenantscope/doctor'
import type { CliIo } from './io.js'
import { parseOptions } from './parse-options.js'
import { DOCTOR_OPTIONS, doctorOptionsOf, reportFor } from './run-report.js'
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
  --other-databases       also open the server's other databases: does the role reach tenant tables there?
  --other-database <name> only this other database (repeatable; implies --other-databases)
  --fail-on <severity>    exit 1 on findings at or above: error, warning or info (default: error)
  --format <format>       text, json, sarif (SARIF 2.1.0, for code scanning) or junit (JUnit XML) (default: text)
  --json                  the same as --format json
  --sarif-uri <path>      with --format sarif: the file results point at (your migrations), for code scanning to show them
  --fix                   print the SQL that fixes the findings, as one script to review (nothing is run)
  -h, --help              show this help

Exit codes: 0 no findings at or above --fail-on, 1 findings, 2 bad arguments or cannot connect.
See also: tenantscope diff (what a migration made worse).
`

const FORMATS = ['text', 'json', 'sarif', 'junit'] as const

/** @internal */
export async function doctorCommand(args: string[], io: CliIo, version: string): Promise<number> {
  const values = parseOptions(args, {
    'database-url': { type: 'string' },
    ...DOCTOR_OPTIONS,
    'other-databases': { type: 'boolean' },
    'other-database': { type: 'string', multiple: true },
    'fail-on': { type: 'string' },
    format: { type: 'string' },
    json: { type: 'boolean' },
    'sarif-uri': { type: 'string' },
    fix: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  })
  if (values.help) {
    io.stdout(DOCTOR_HELP)
    return 0
  }
  const failOn = failOnOf(values['fail-on'])
  const format = values.format ?? (values.json ? 'json' : 'text')
  if (!(FORMATS as readonly string[]).includes(format)) throw new UsageError('--format must be text, json, sarif or junit')
  if (values.json && values.format !== undefined && values.format !== 'json') throw new UsageError('--json and --format disagree')
  if (values['sarif-uri'] !== undefined && format !== 'sarif') throw new UsageError('--sarif-uri needs --format sarif')
  const url = values['database-url'] ?? io.env.DATABASE_URL
  if (!url) throw new UsageError('no database: pass --database-url <url> or set DATABASE_URL')
  const only = values['other-database']
  const otherDatabases = only && only.length > 0 ? only : (values['other-databases'] ?? false)
  const report = await reportFor(url, { ...doctorOptionsOf(values), otherDatabases })
  if (values.fix) io.stdout(fixScript(report))
  else if (format === 'json') io.stdout(`${JSON.stringify(report, null, 2)}\n`)
  else if (format === 'sarif') {
    const artifactUri = values['sarif-uri']
    io.stdout(formatSarif(report, { toolVersion: version, ...(artifactUri ? { artifactUri } : {}) }))
  } else if (format === 'junit') io.stdout(formatJunit(report, { failOn }))
  else io.stdout(formatReport(report))
  return hasFindingsAtLeast(report, failOn) ? 1 : 0
}

/** @internal */
export function failOnOf(value: string | undefined): Severity {
  const failOn = (value ?? 'error') as Severity
  if (!SEVERITIES.includes(failOn)) throw new UsageError('--fail-on must be error, warning or info')
  return failOn
}
