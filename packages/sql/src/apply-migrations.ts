import type { Migration } from './migration.js'
import { migrations as tenantscopeMigrations } from './migration.js'

/** Anything with pg's `query(text)`: a pg.Client, a pg.Pool, a PoolClient. */
export interface SqlExecutor {
  query(text: string): Promise<unknown>
}

/**
 * Runs migrations in order, each in its own transaction. They are idempotent,
 * so running them again is safe. Use a role that may create schemas and roles
 * (the owner or maintenance role), never the application role.
 * @example await applyMigrations(adminPool)
 */
export async function applyMigrations(
  executor: SqlExecutor,
  migrations: readonly Migration[] = tenantscopeMigrations,
): Promise<void> {
  for (const migration of migrations) {
    await executor.query(`BEGIN;\n${migration.sql}\nCOMMIT;`).catch(async (error: unknown) => {
      await executor.query('ROLLBACK').catch(() => undefined)
      throw error
    })
  }
}
