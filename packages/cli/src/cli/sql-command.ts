import { exampleMigrations, type Migration, migrations, writeMigrations } from '@tenantscope/sql'
import type { CliIo } from './io.js'
import { parseOptions } from './parse-options.js'
import { safeMessage } from './safe-message.js'
import { UsageError } from './usage-error.js'

export const SQL_HELP = `Usage: tenantscope sql [options]

Prints tenantscope's migrations (ordered, idempotent) to stdout, or copies them
into your migrations folder.

Options:
  --out <dir>    write one file per migration into <dir> instead of printing
  --overwrite    with --out: replace files that exist already (default: keep them)
  --examples     include the example schema (tenants, users, projects, invoices)
  --list         print the migration names only
  -h, --help     show this help

Examples:
  tenantscope sql | psql "$DATABASE_URL"
  tenantscope sql --out db/migrations
`

/** @internal */
export async function sqlCommand(args: string[], io: CliIo): Promise<number> {
  const values = parseOptions(args, {
    out: { type: 'string' },
    overwrite: { type: 'boolean' },
    examples: { type: 'boolean' },
    list: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  })
  if (values.help) {
    io.stdout(SQL_HELP)
    return 0
  }
  if (values.overwrite && values.out === undefined) throw new UsageError('--overwrite needs --out <dir>')
  const chosen: Migration[] = [...migrations, ...(values.examples ? exampleMigrations : [])]
  if (values.list) {
    io.stdout(chosen.map((migration) => `${migration.name}.sql\n`).join(''))
    return 0
  }
  if (values.out === undefined) {
    io.stdout(chosen.map((migration) => `-- ${migration.name}.sql\n${migration.sql.trimEnd()}\n`).join('\n'))
    return 0
  }
  let written: string[]
  try {
    written = await writeMigrations(values.out, { migrations: chosen, overwrite: values.overwrite ?? false })
  } catch (error) {
    throw new UsageError(`cannot write to ${values.out}: ${safeMessage(error)}`)
  }
  for (const path of written) io.stdout(`wrote ${path}\n`)
  const kept = chosen.length - written.length
  if (kept > 0) io.stdout(`kept ${kept} existing file${kept === 1 ? '' : 's'} (use --overwrite to replace)\n`)
  return 0
}
