import { TenantScopeError } from '@tenantscope/core'
import pg from 'pg'
import type { MigrationFile } from './migration-files.js'

/** Where a migration run applies: the shared schema, a tenant's schema, or a tenant's database. */
export interface MigrationTarget {
  readonly kind: 'shared' | 'schema' | 'database'
  /** Unset for the shared schema. */
  readonly tenantId?: string | undefined
  /** The schema the migrations run in (search_path) and whose tracking table records them. */
  readonly schema: string
  /** `schema` targets: the tenant's role, granted what the migrations create. */
  readonly role?: string | undefined
  /** The region whose database holds it (shared and schema targets); unset: the primary. */
  readonly region?: string | undefined
}

/** What happened on one target. */
export interface TargetResult {
  readonly target: MigrationTarget
  /** Migrations applied by this run (in a dry run: those that would be). */
  readonly applied: string[]
  readonly failure?: {
    readonly migration: string
    /** The statement that failed (its first 500 characters). */
    readonly statement: string
    readonly code: string | undefined
    readonly message: string
  }
}

const TRACKING = 'tenantscope_migrations'

/**
 * @internal Applies what is missing on one target, each migration in its own
 * transaction (a failure keeps the ones before it: the next run resumes).
 * A run with nothing to do costs one round trip.
 */
export async function migrateTarget(
  client: pg.ClientBase,
  target: MigrationTarget,
  migrations: readonly MigrationFile[],
  dryRun: boolean,
): Promise<TargetResult> {
  const schema = pg.escapeIdentifier(target.schema)
  const table = `${schema}.${TRACKING}`
  const applied = await appliedOn(client, table)
  for (const migration of migrations) {
    const checksum = applied.get(migration.name)
    if (checksum !== undefined && checksum !== migration.checksum) {
      throw new TenantScopeError(
        'MIGRATION_CHECKSUM_MISMATCH',
        `Migration ${migration.name} was edited after it ran on ${describeTarget(target)}: add a new migration instead`,
      )
    }
  }
  const pending = migrations.filter((m) => !applied.has(m.name))
  if (dryRun || pending.length === 0) return { target, applied: pending.map((m) => m.name) }

  await client.query(`CREATE TABLE IF NOT EXISTS ${table} (
    name text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`)
  const done: string[] = []
  for (const migration of pending) {
    let statement = 'BEGIN'
    try {
      await client.query('BEGIN')
      // Two runs at once: the second waits here, then sees the migration applied.
      statement = 'SELECT pg_advisory_xact_lock'
      await client.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`tenantscope:migrate:${target.schema}`])
      const again = await client.query(`SELECT 1 FROM ${table} WHERE name = $1`, [migration.name])
      if (again.rowCount === 0) {
        await client.query(`SELECT set_config('search_path', $1, true)`, [schema])
        for (statement of migration.statements) await client.query(statement)
        statement = 'INSERT INTO tenantscope_migrations'
        await client.query(`INSERT INTO ${table} (name, checksum) VALUES ($1, $2)`, [migration.name, migration.checksum])
        if (target.role !== undefined) {
          statement = 'GRANT to the tenant role'
          await grantSchemaTo(client, target.schema, target.role)
        }
      }
      await client.query('COMMIT')
      done.push(migration.name)
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined)
      const { code, message } = error as { code?: string; message?: string }
      const failure = { migration: migration.name, statement: statement.slice(0, 500), code, message: String(message) }
      return { target, applied: done, failure }
    }
  }
  return { target, applied: done }
}

async function appliedOn(client: pg.ClientBase, table: string): Promise<Map<string, string>> {
  try {
    const { rows } = await client.query<{ name: string; checksum: string }>(`SELECT name, checksum FROM ${table}`)
    return new Map(rows.map((row) => [row.name, row.checksum]))
  } catch (error) {
    // 42P01: no tracking table yet, nothing applied.
    if ((error as { code?: string }).code === '42P01') return new Map()
    throw error
  }
}

/** @internal The tenant role's privileges on everything in its schema, and nothing else. */
// The tracking table is the migrator's: the tenant role must not rewrite its history.
export async function grantSchemaTo(client: pg.ClientBase, schema: string, role: string, tracking = true): Promise<void> {
  const s = pg.escapeIdentifier(schema)
  const r = pg.escapeIdentifier(role)
  await client.query(`GRANT USAGE ON SCHEMA ${s} TO ${r};
    GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${s} TO ${r};
    GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${s} TO ${r}${
      tracking
        ? `;
    REVOKE ALL ON ${s}.${TRACKING} FROM ${r}`
        : ''
    }`)
}

/** @internal For messages: the kind and schema, never the tenant id. */
export function describeTarget(target: MigrationTarget): string {
  return target.kind === 'shared' ? 'the shared schema' : target.kind === 'schema' ? `schema ${target.schema}` : 'a tenant database'
}
