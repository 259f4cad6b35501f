import { parseArgs } from 'node:util'
import { TenantScopeError } from '@tenantscope/core'
import pg from 'pg'
import type { TenantEntry, TenantStrategy } from './directory-entry.js'
import { migrateTenants } from './migrate-tenants.js'
import { createTenant, dropTenant, listTenants } from './provisioning.js'

/** What a command writes to and reads from; the CLI passes the process's. */
export interface CommandIO {
  stdout(text: string): void
  stderr(text: string): void
  env: Record<string, string | undefined>
  /** Draw a progress bar on stderr (a terminal). */
  isTTY?: boolean
}

const USAGE = `Usage:
  tenantscope tenant create <tenant-id> --strategy pool|schema|database [--schema <name>] [--role <name>]
                            [--database <name>] [--region <name>] [--migrations <folder>] [--app-role <login role>]
  tenantscope tenant list [--json]
  tenantscope tenant drop <tenant-id> --yes
  tenantscope tenant migrate --migrations <folder> [--concurrency <n>] [--stop-on-error] [--dry-run] [--json]
Connects with --database-url or DATABASE_URL, as a role that may create schemas, roles and databases (never the app role).
A database tenant's database is reached with the same credentials and its own database name.`

const OPTIONS = {
  'database-url': { type: 'string' },
  strategy: { type: 'string' },
  schema: { type: 'string' },
  role: { type: 'string' },
  database: { type: 'string' },
  region: { type: 'string' },
  migrations: { type: 'string' },
  'app-role': { type: 'string' },
  'gate-role': { type: 'string' },
  concurrency: { type: 'string' },
  'stop-on-error': { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  json: { type: 'boolean' },
  yes: { type: 'boolean' },
} as const

/**
 * `tenantscope tenant create|list|drop|migrate`: provisions tenants of any
 * kind, lists them, deprovisions them, and migrates them all. Returns the
 * exit code (0 done, 1 failed, 2 usage).
 */
export async function tenantDirectoryCommand(
  action: 'create' | 'list' | 'drop' | 'migrate',
  args: string[],
  io: CommandIO,
): Promise<number> {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>
  try {
    parsed = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true })
  } catch (error) {
    io.stderr(`${(error as Error).message}\n${USAGE}\n`)
    return 2
  }
  const { values, positionals } = parsed
  const url = values['database-url'] ?? io.env.DATABASE_URL
  if (!url) {
    io.stderr(`No database: pass --database-url or set DATABASE_URL.\n${USAGE}\n`)
    return 2
  }
  const databaseUrl = (entry: TenantEntry) => {
    const target = new URL(url)
    target.pathname = `/${entry.database}`
    return target.toString()
  }
  const admin = new pg.Pool({ connectionString: url, max: Math.max(2, Number(values.concurrency ?? 4)) })
  admin.on('error', () => undefined)
  try {
    switch (action) {
      case 'create': {
        const [tenantId] = positionals
        if (!tenantId || !values.strategy) return usage(io, 'create needs a tenant id and --strategy')
        const entry = await createTenant(admin, {
          tenantId,
          strategy: values.strategy as TenantStrategy,
          schema: values.schema,
          role: values.role,
          database: values.database,
          region: values.region,
          migrations: values.migrations,
          appRole: values['app-role'],
          gateRole: values['gate-role'],
          connectionFor: databaseUrl,
        })
        io.stdout(values.json ? `${JSON.stringify(entry)}\n` : `created ${entry.strategy} tenant ${entry.tenantId}\n`)
        return 0
      }
      case 'list': {
        const tenants = await listTenants(admin)
        if (values.json) io.stdout(`${JSON.stringify(tenants)}\n`)
        else {
          for (const t of tenants) {
            const where = t.strategy === 'schema' ? t.schema : t.strategy === 'database' ? t.database : 'shared'
            io.stdout(`${t.tenantId}\t${t.strategy}\t${where}\t${t.region ?? '-'}\t${t.state}\n`)
          }
        }
        return 0
      }
      case 'drop': {
        const [tenantId] = positionals
        if (!tenantId) return usage(io, 'drop needs a tenant id')
        if (!values.yes) return usage(io, 'drop deletes the tenant and its data: confirm with --yes')
        const dropped = await dropTenant(admin, tenantId)
        if (!dropped) {
          io.stderr('No such tenant in the directory\n')
          return 1
        }
        io.stdout(`dropped ${dropped.strategy} tenant ${dropped.tenantId}\n`)
        return 0
      }
      case 'migrate': {
        if (!values.migrations) return usage(io, 'migrate needs --migrations <folder>')
        const summary = await migrateTenants({
          admin,
          migrations: values.migrations,
          connectionFor: databaseUrl,
          concurrency: Number(values.concurrency ?? 4),
          onError: values['stop-on-error'] ? 'stop' : 'continue',
          dryRun: values['dry-run'] === true,
          onProgress: io.isTTY ? ({ done, total }) => io.stderr(`\r${bar(done, total)}`) : undefined,
        })
        if (io.isTTY) io.stderr('\n')
        if (values.json) io.stdout(`${JSON.stringify(summary)}\n`)
        else {
          const verb = summary.dryRun ? 'would migrate' : 'migrated'
          const { targets, upToDate, migrated, failed, skipped, durationMs } = summary
          io.stdout(
            `${targets} targets: ${upToDate} up to date, ${verb} ${migrated.length}, ${failed.length} failed, ` +
              `${skipped} skipped (${durationMs} ms)\n`,
          )
          for (const f of summary.failed) {
            const where = `${f.kind} ${f.tenantId ?? ''} ${f.schema}`
            io.stderr(`failed: ${where}: ${f.migration} [${f.code ?? '-'}] ${f.message}\n  statement: ${f.statement}\n`)
          }
        }
        return summary.ok ? 0 : 1
      }
      default:
        return usage(io, `unknown action ${String(action)}`)
    }
  } catch (error) {
    const code = TenantScopeError.is(error) ? error.code : (error as { code?: string }).code
    io.stderr(`tenant ${action} failed${code ? ` [${code}]` : ''}: ${(error as Error).message}\n`)
    return 1
  } finally {
    await admin.end()
  }
}

function usage(io: CommandIO, why: string): number {
  io.stderr(`${why}\n${USAGE}\n`)
  return 2
}

function bar(done: number, total: number): string {
  const width = 30
  const filled = total === 0 ? width : Math.round((done / total) * width)
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total}`
}
