import { readFile } from 'node:fs/promises'
import { type DoctorReport, diffReports, formatReport, hasFindingsAtLeast } from '@tenantscope/doctor'
import { failOnOf } from './doctor-command.js'
import type { CliIo } from './io.js'
import { parseOptions } from './parse-options.js'
import { DOCTOR_OPTIONS, doctorOptionsOf, reportFor } from './run-report.js'
import { safeMessage } from './safe-message.js'
import { UsageError } from './usage-error.js'

export const DIFF_HELP = `Usage: tenantscope diff --before <url|report.json> --after <url> [options]

Runs the doctor on two databases (before and after a migration) and reports
what got worse: the findings the second has that the first had not.

Options:
  --before <url|file>     the database before the change, or a report saved with doctor --format json
  --after <url>           the database after the change (default: $DATABASE_URL)
  --role, --tenant-column, --setting, --schema, --table   as for tenantscope doctor, applied to both
  --fail-on <severity>    exit 1 when a new finding is at or above: error, warning or info (default: error)
  --json                  print { added, removed, unchanged } as JSON
  -h, --help              show this help

Exit codes: 0 nothing at or above --fail-on got worse, 1 something did, 2 bad arguments or cannot connect.
`

/** @internal */
export async function diffCommand(args: string[], io: CliIo): Promise<number> {
  const values = parseOptions(args, {
    before: { type: 'string' },
    after: { type: 'string' },
    ...DOCTOR_OPTIONS,
    'fail-on': { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  })
  if (values.help) {
    io.stdout(DIFF_HELP)
    return 0
  }
  const failOn = failOnOf(values['fail-on'])
  if (!values.before) throw new UsageError('--before <url|report.json> is required')
  const after = values.after ?? io.env.DATABASE_URL
  if (!after) throw new UsageError('no database after the change: pass --after <url> or set DATABASE_URL')
  const options = { ...doctorOptionsOf(values), otherDatabases: false }
  const before = /^postgres(ql)?:\/\//i.test(values.before) ? await reportFor(values.before, options) : await savedReport(values.before)
  const diff = diffReports(before, await reportFor(after, options))
  if (values.json) {
    io.stdout(`${JSON.stringify(diff, null, 2)}\n`)
  } else {
    const summary = `tenantscope diff: ${diff.added.length} new, ${diff.removed.length} fixed, ${diff.unchanged.length} unchanged`
    const body = diff.added.length === 0 ? '' : formatReport(asReport(before, diff.added)).split('\n').slice(2).join('\n')
    io.stdout(`${summary}\n${diff.added.length === 0 ? '\nNothing got worse.\n' : body}`)
  }
  return hasFindingsAtLeast({ findings: diff.added }, failOn) ? 1 : 0
}

async function savedReport(path: string): Promise<DoctorReport> {
  let parsed: unknown
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'))
  } catch (error) {
    throw new UsageError(`--before: cannot read a doctor report from ${path}: ${safeMessage(error)}`)
  }
  if (typeof parsed !== 'object' || parsed === null || !Array.isArray((parsed as DoctorReport).findings)) {
    throw new UsageError(`--before: ${path} is not a report of tenantscope doctor --format json`)
  }
  return parsed as DoctorReport
}

function asReport(like: DoctorReport, findings: DoctorReport['findings']): DoctorReport {
  const counts = { error: 0, warning: 0, info: 0 }
  for (const finding of findings) counts[finding.severity]++
  return { ...like, findings, counts }
}
