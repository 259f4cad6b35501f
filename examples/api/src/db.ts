import { tenantDrizzle } from '@tenantscope/drizzle'
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres'
import pg from 'pg'
import { schema } from './schema.js'

export type Database = NodePgDatabase<typeof schema>

/**
 * A tenant-scoped Drizzle instance over a pool of the application role (a
 * LOGIN role in tenantscope_app: not superuser, not BYPASSRLS, owns
 * nothing). Every query runs for the tenant of the surrounding withTenant.
 */
export function createDatabase(connectionString: string, options: { max?: number; applicationName?: string } = {}): { db: Database; pool: pg.Pool } {
  const pool = new pg.Pool({ connectionString, max: options.max ?? 10, application_name: options.applicationName ?? 'tenantscope-example-api' })
  return { db: tenantDrizzle(drizzle(pool, { schema })), pool }
}
