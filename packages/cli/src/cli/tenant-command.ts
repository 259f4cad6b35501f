import { eraseTenant, exportTenant, importTenant, type LifecycleProgress, TenantLifecycleError } from '@tenantscope/lifecycle'
import { tenantDirectoryCommand } from '@tenantscope/router'
import pg from 'pg'
import { checkUrl } from './check-url.js'
import type { CliIo } from './io.js'
import { moveCommand } from './move-command.js'
import { parseOptions } from './parse-options.js'
import { progressBar } from './progress-bar.js'
import { safeMessage } from './safe-message.js'
import { UsageError } from './usage-error.js'

export const TENANT_HELP = `Usage: tenantscope tenant <create|list|drop|migrate|export|import|erase|move> [options]

  create, list, drop, migrate           the tenant directory (@tenantscope/router): where each
                                        tenant lives; tenantscope tenant create --help for more

  export --tenant <id> --out <folder>   every row of one tenant, from every table that holds
                                        its rows, in one snapshot: COPY files and a manifest
                                        with counts and SHA-256 checksums
  import --in <folder> [--replace]      restore an archive, all or nothing, checked first and
                                        verified after (refused if the tenant exists, unless
                                        --replace)
  erase --tenant <id> [--dry-run]       delete every row of the tenant, children first, in
        [--force] [--batch-size <n>]    batches (default 1000 rows), then prove nothing is left
        [--pace <p>]                    (a receipt is kept in tenantscope.tenant_erasures); needs --force
                                        once the tenant no longer writes; after each batch
                                        it pauses p × the batch's time so other tenants keep
                                        their latency (default 2; --pace 0: full speed)
  move --tenant <id> --to <strategy>    move a tenant to another place (pool, schema, database,
                                        region) with its writes frozen meanwhile, verified;
                                        --finish erases the old copy later; tenantscope tenant
                                        move --help for more

Options:
  --database-url <url>    the maintenance role's connection (BYPASSRLS) (default: $DATABASE_URL)
  --tenant-column <name>  the tenant column (default: tenant_id)
  --schema <name>         only tables in this schema (repeatable)
  --text-ids              tenant ids are any text (default: UUIDs)
  --json                  print the manifest or receipt as JSON
  -h, --help              show this help

A progress bar shows on a terminal. An interrupted command is rerun to complete.
Exit codes: 0 done, 1 refused or failed (the reason on stderr), 2 bad arguments or cannot connect.
`

const UUID_OR_TEXT = (text: boolean) => (text ? (raw: string) => raw : undefined)

/** @internal */
export async function tenantCommand(args: string[], io: CliIo): Promise<number> {
  const [action, ...rest] = args
  // Where a tenant lives (the directory of @tenantscope/router): its own command.
  if (action === 'create' || action === 'list' || action === 'drop' || action === 'migrate') {
    return tenantDirectoryCommand(action, rest, io)
  }
  if (action === 'move') return moveCommand(rest, io)
  const values = parseOptions(rest, {
    'database-url': { type: 'string' },
    tenant: { type: 'string' },
    out: { type: 'string' },
    in: { type: 'string' },
    replace: { type: 'boolean' },
    'dry-run': { type: 'boolean' },
    force: { type: 'boolean' },
    'batch-size': { type: 'string' },
    pace: { type: 'string' },
    'tenant-column': { type: 'string' },
    schema: { type: 'string', multiple: true },
    'text-ids': { type: 'boolean' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  })
  if (values.help || action === undefined || action === '--help' || action === '-h') {
    io.stdout(TENANT_HELP)
    return action === undefined ? 2 : 0
  }
  if (!['export', 'import', 'erase'].includes(action))
    throw new UsageError(
      `unknown action ${JSON.stringify(action.slice(0, 40))} (expected create, list, drop, migrate, export, import, erase or move)`,
    )
  const required = (name: 'tenant' | 'out' | 'in') => {
    const value = values[name]
    if (!value) throw new UsageError(`${action} needs --${name}`)
    return value
  }
  for (const name of ({ export: ['tenant', 'out'], import: ['in'], erase: ['tenant'] } as const)[action as 'export' | 'import' | 'erase'])
    required(name)
  const batchSize = values['batch-size'] === undefined ? undefined : Number(values['batch-size'])
  if (batchSize !== undefined && !(Number.isSafeInteger(batchSize) && batchSize > 0))
    throw new UsageError('--batch-size must be a positive integer')
  const pace = values.pace === undefined ? undefined : Number(values.pace)
  if (pace !== undefined && !(values.pace!.trim() !== '' && Number.isFinite(pace) && pace >= 0 && pace <= 100))
    throw new UsageError('--pace must be a number from 0 (full speed) to 100')
  const plan = {
    ...(values['tenant-column'] ? { tenantColumn: values['tenant-column'] } : {}),
    ...(values.schema ? { schemas: values.schema } : {}),
  }
  const parseTenantId = UUID_OR_TEXT(values['text-ids'] ?? false)
  const url = values['database-url'] ?? io.env.DATABASE_URL
  if (!url) throw new UsageError('no database: pass --database-url <url> or set DATABASE_URL')
  checkUrl(url)

  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000, application_name: `tenantscope tenant ${action}` })
  client.on('error', () => undefined)
  try {
    await client.connect()
  } catch (error) {
    throw new UsageError(`cannot connect to the database: ${safeMessage(error, url)}`)
  }
  const bar = progressBar(io.stderr, io.stderrIsTTY ?? false)
  const onProgress = (p: LifecycleProgress) =>
    bar.update({ label: p.table, index: p.index, total: p.total, detail: `${p.phase} ${p.rows.toLocaleString('en')} rows` })
  try {
    let result: unknown
    let summary: string
    if (action === 'export') {
      const manifest = await exportTenant({
        client,
        tenantId: required('tenant'),
        directory: required('out'),
        onProgress,
        ...plan,
        ...(parseTenantId ? { parseTenantId } : {}),
      })
      result = manifest
      summary = `Exported ${sum(manifest.tables.map((t) => t.rows))} rows from ${manifest.tables.length} tables to ${values.out}\n`
    } else if (action === 'import') {
      const receipt = await importTenant({
        client,
        directory: required('in'),
        replace: values.replace ?? false,
        onProgress,
        ...(plan.schemas ? { schemas: plan.schemas } : {}),
        ...(parseTenantId ? { parseTenantId } : {}),
      })
      result = receipt
      summary = `Imported ${sum(receipt.tables.map((t) => t.rows))} rows into ${receipt.tables.length} tables; counts and checksums verified${receipt.replacedRows ? ` (replaced ${receipt.replacedRows} rows)` : ''}\n`
    } else {
      const receipt = await eraseTenant({
        client,
        tenantId: required('tenant'),
        dryRun: values['dry-run'] ?? false,
        force: values.force ?? false,
        ...(batchSize ? { batchSize } : {}),
        ...(pace !== undefined ? { pace } : {}),
        onProgress,
        ...plan,
        ...(parseTenantId ? { parseTenantId } : {}),
      })
      result = receipt
      summary = receipt.dryRun
        ? `Would erase ${receipt.rows} rows:\n${receipt.tables.map((t) => `  ${t.name}: ${t.rows}`).join('\n')}\n`
        : `Erased ${receipt.rows} rows from ${receipt.tables.length} tables in ${receipt.batches} batches (paused ${(receipt.pausedMs / 1000).toFixed(1)} s at pace ${receipt.pace}); verified: none left${receipt.recorded ? '; receipt kept in tenantscope.tenant_erasures' : ''}\n`
    }
    bar.done()
    io.stdout(values.json ? `${JSON.stringify(result, null, 2)}\n` : summary)
    return 0
  } catch (error) {
    bar.done()
    if (!TenantLifecycleError.is(error)) throw new UsageError(`tenant ${action} failed: ${safeMessage(error, url)}`)
    io.stderr(`tenantscope tenant ${action}: ${error.code}: ${error.message}\n`)
    return 1
  } finally {
    await client.end().catch(() => undefined)
  }
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0)
