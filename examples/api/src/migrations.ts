import { type MigrationFile, migrationFrom } from '@tenantscope/router'
import { exampleMigrations, migrations as tenantscopeMigrations } from '@tenantscope/sql'

/**
 * The application's own migrations: its tables (sql/examples), with RLS on
 * tenant_id. They make the shared schema, every tenant schema and every
 * tenant database alike, so the same queries run on each. In a tenant schema
 * the policies are a second wall behind the schema's privileges.
 */
export const appMigrations: readonly MigrationFile[] = exampleMigrations.map((m) => migrationFrom(m.name, m.sql))

/**
 * A tenant database starts empty: tenantscope's own SQL (its schema, the
 * RLS helpers, the grants to tenantscope_app), then the application's.
 */
export const databaseMigrations: readonly MigrationFile[] = [
  ...tenantscopeMigrations.map((m) => migrationFrom(m.name, m.sql)),
  ...appMigrations,
]
