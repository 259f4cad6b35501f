import { TenantScopeError } from '@tenantscope/core'
import type pg from 'pg'
import { isPlainName } from './directory-entry.js'

export interface TenantRollupOptions {
  /** The view the app reads, in `schema` (default `public`). */
  name: string
  /** The rollup's SELECT over all tenants; it must return the tenant column. Written by you, spliced as is. */
  query: string
  /** @default 'tenant_id' (compared as uuid with app.current_tenant) */
  tenantColumn?: string
  /** @default 'public' */
  schema?: string
  /** Where the materialized view lives, out of the app role's reach. @default 'tenantscope_rollups' */
  privateSchema?: string
  /** Roles allowed to read the filtered view. @default ['tenantscope_app'] */
  grantTo?: string[]
  /** The tenant setting the view filters on. @default 'app.current_tenant' */
  setting?: string
}

const names = (options: TenantRollupOptions) => {
  const schema = options.schema ?? 'public'
  const privateSchema = options.privateSchema ?? 'tenantscope_rollups'
  const column = options.tenantColumn ?? 'tenant_id'
  for (const name of [options.name, schema, privateSchema, column, ...(options.grantTo ?? [])]) {
    if (!isPlainName(name))
      throw new TenantScopeError('INVALID_CONFIG', 'Rollup, schema, column and role names must be lower-case identifiers')
  }
  const setting = options.setting ?? 'app.current_tenant'
  if (!/^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)+$/.test(setting)) throw new TenantScopeError('INVALID_CONFIG', 'Invalid setting name')
  return { view: `${schema}.${options.name}`, matview: `${privateSchema}.${options.name}`, privateSchema, column, setting }
}

/**
 * A tenant-scoped rollup for analytics. RLS does not apply to materialized
 * views, so the materialized view goes into a schema the app role cannot
 * use, and the app reads a security-barrier view over it that keeps the
 * current tenant's rows only (none outside withTenant). Run as the owner of
 * the underlying tables (never the app role); refresh with refreshTenantRollup.
 * @example await createTenantRollup(admin, { name: 'project_stats', query: 'SELECT tenant_id, count(*) AS n FROM projects GROUP BY 1' })
 */
export async function createTenantRollup(admin: pg.Pool | pg.ClientBase, options: TenantRollupOptions): Promise<void> {
  const { view, matview, privateSchema, column, setting } = names(options)
  const grantTo = options.grantTo ?? ['tenantscope_app']
  // One multi-statement query: PostgreSQL runs it as one implicit transaction, all or nothing.
  await admin.query(`
    CREATE SCHEMA IF NOT EXISTS ${privateSchema};
    REVOKE ALL ON SCHEMA ${privateSchema} FROM PUBLIC;
    CREATE MATERIALIZED VIEW ${matview} AS ${options.query};
    CREATE INDEX ON ${matview} (${column});
    CREATE VIEW ${view} WITH (security_barrier) AS
      SELECT * FROM ${matview} WHERE ${column} = (SELECT NULLIF(current_setting('${setting}', true), '')::uuid);
    ${grantTo.map((role) => `GRANT SELECT ON ${view} TO ${role};`).join('\n    ')}`)
}

/** Recomputes a rollup for every tenant (`concurrently` needs a unique index on the materialized view). */
export async function refreshTenantRollup(
  admin: pg.Pool | pg.ClientBase,
  options: Pick<TenantRollupOptions, 'name' | 'privateSchema'> & { concurrently?: boolean },
): Promise<void> {
  const { matview } = names({ ...options, query: '' })
  await admin.query(`REFRESH MATERIALIZED VIEW ${options.concurrently ? 'CONCURRENTLY ' : ''}${matview}`)
}
