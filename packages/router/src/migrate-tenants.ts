import { TenantScopeError } from '@tenantscope/core'
import pg from 'pg'
import type { ConnectionResolver } from './database-pools.js'
import type { TenantEntry } from './directory-entry.js'
import { type MigrationTarget, migrateTarget, type TargetResult } from './migrate-target.js'
import { type MigrationFile, readMigrationsFolder } from './migration-files.js'
import { listTenants } from './provisioning.js'

export interface MigrateTenantsOptions {
  /**
   * The primary database as the role that owns the schemas (never the app
   * role): the shared schema and every schema tenant are migrated through it.
   */
  admin: pg.Pool
  /**
   * Each region's database, as the migrations role: its shared schema and its
   * schema tenants are migrated there. A tenant pinned to a region missing
   * here fails (it is never migrated on the primary by mistake).
   */
  regions?: Record<string, pg.Pool>
  /** A folder of `*.sql` files (drizzle-kit's output works as is), or migrations already read. */
  migrations: string | readonly MigrationFile[]
  /** Credentials of a database tenant's database, as a role that may change its schema. */
  connectionFor?: ConnectionResolver
  /** The tenants to migrate. @default every schema and database tenant in tenantscope.tenant_directory */
  tenants?: readonly TenantEntry[]
  /** Migrate the shared schema (pool tenants) first. @default true */
  shared?: boolean
  /** @default 'public' */
  sharedSchema?: string
  /** Targets migrated at once. @default 4 */
  concurrency?: number
  /** After a target fails: `continue` with the others, or `stop` taking new ones. @default 'continue' */
  onError?: 'continue' | 'stop'
  /** Report what would run, change nothing. */
  dryRun?: boolean
  /** Called after each target. */
  onProgress?: (progress: { done: number; total: number; result: TargetResult }) => void
}

/** Which target a summary line is about. */
export interface TargetPlace {
  readonly tenantId?: string | undefined
  readonly kind: MigrationTarget['kind']
  readonly schema: string
  readonly region?: string | undefined
}

function where(target: MigrationTarget): TargetPlace {
  const place: TargetPlace = { tenantId: target.tenantId, kind: target.kind, schema: target.schema }
  return target.region === undefined ? place : { ...place, region: target.region }
}

/** A run's outcome, ready for `JSON.stringify` in CI. */
export interface MigrateSummary {
  readonly ok: boolean
  readonly dryRun: boolean
  readonly targets: number
  /** Targets that had nothing to do. */
  readonly upToDate: number
  /** Targets where migrations were applied (or would be, in a dry run). */
  readonly migrated: ReadonlyArray<TargetPlace & { applied: string[] }>
  /** Targets that failed, with the migration and statement; rerun to resume. */
  readonly failed: ReadonlyArray<TargetPlace & NonNullable<TargetResult['failure']>>
  /** Targets not attempted after a failure with `onError: 'stop'`. */
  readonly skipped: number
  readonly durationMs: number
}

interface Job {
  readonly target: MigrationTarget
  readonly entry: TenantEntry | undefined
  /** The pool for shared and schema targets; undefined for a region without one. */
  readonly admin: pg.Pool | undefined
}

/**
 * Applies a folder of ordered SQL migrations to the shared schema, every
 * tenant schema and every tenant database, N at a time. Each target keeps a
 * tracking table (`tenantscope_migrations`, with checksums) in its schema,
 * so a run resumes where the last one stopped and refuses an edited migration.
 * @example const summary = await migrateTenants({ admin, migrations: './drizzle', concurrency: 8 })
 */
export async function migrateTenants(options: MigrateTenantsOptions): Promise<MigrateSummary> {
  const started = performance.now()
  const migrations = typeof options.migrations === 'string' ? await readMigrationsFolder(options.migrations) : options.migrations
  const concurrency = options.concurrency ?? 4
  if (!(Number.isInteger(concurrency) && concurrency >= 1)) {
    throw new TenantScopeError('INVALID_CONFIG', 'concurrency must be an integer ≥ 1')
  }
  const dryRun = options.dryRun === true
  const tenants = options.tenants ?? (await listTenants(options.admin))
  const jobs: Job[] = []
  const regions = options.regions ?? {}
  if (options.shared !== false) {
    const shared = { kind: 'shared', schema: options.sharedSchema ?? 'public' } as const
    jobs.push({ target: shared, entry: undefined, admin: options.admin })
    for (const region of Object.keys(regions)) jobs.push({ target: { ...shared, region }, entry: undefined, admin: regions[region] })
  }
  for (const entry of tenants) {
    if (entry.strategy === 'schema') {
      const admin = entry.region === undefined ? options.admin : regions[entry.region]
      const target = { kind: 'schema', tenantId: entry.tenantId, schema: entry.schema!, role: entry.role, region: entry.region } as const
      jobs.push({ target, entry, admin })
    } else if (entry.strategy === 'database') {
      if (options.connectionFor === undefined) {
        throw new TenantScopeError('INVALID_CONFIG', 'Database tenants need connectionFor to be migrated')
      }
      jobs.push({ target: { kind: 'database', tenantId: entry.tenantId, schema: 'public' }, entry, admin: undefined })
    }
  }

  const results: TargetResult[] = []
  let next = 0
  let stopped = false
  const run = async (job: Job): Promise<TargetResult> => {
    try {
      if (job.target.kind !== 'database') {
        if (job.admin === undefined) {
          throw new TenantScopeError('INVALID_CONFIG', 'The tenant is pinned to a region without a pool in regions')
        }
        const client = await job.admin.connect()
        let broken: Error | undefined
        try {
          return await migrateTarget(client, job.target, migrations, dryRun)
        } catch (error) {
          broken = error as Error
          throw error
        } finally {
          client.release(broken)
        }
      }
      const config = await options.connectionFor!(job.entry!)
      const client = new pg.Client(typeof config === 'string' ? { connectionString: config } : config)
      await client.connect()
      try {
        return await migrateTarget(client, job.target, migrations, dryRun)
      } finally {
        await client.end().catch(() => undefined)
      }
    } catch (error) {
      const { code, message } = error as { code?: string; message?: string }
      return { target: job.target, applied: [], failure: { migration: '', statement: '', code, message: String(message) } }
    }
  }
  const worker = async () => {
    while (!stopped && next < jobs.length) {
      const result = await run(jobs[next++]!)
      results.push(result)
      if (result.failure && options.onError === 'stop') stopped = true
      options.onProgress?.({ done: results.length, total: jobs.length, result })
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, jobs.length) }, worker))

  const migrated = results.filter((r) => r.applied.length > 0)
  const failed = results.filter((r) => r.failure !== undefined)
  return {
    ok: failed.length === 0,
    dryRun,
    targets: jobs.length,
    upToDate: results.filter((r) => r.applied.length === 0 && r.failure === undefined).length,
    migrated: migrated.map((r) => ({ ...where(r.target), applied: r.applied })),
    failed: failed.map((r) => ({ ...where(r.target), ...r.failure! })),
    skipped: jobs.length - results.length,
    durationMs: Math.round(performance.now() - started),
  }
}
