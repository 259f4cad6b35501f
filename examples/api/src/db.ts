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
export function createDatabase(
  connectionString: string,
  options: { max?: number; applicationName?: string; onError?: (error: Error) => void } = {},
): { db: Database; pool: pg.Pool } {
  const pool = new pg.Pool({
    connectionString,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'tenantscope-example-api',
  })
  // An idle connection that the server closes (a restart, a failover) is
  // reported here; without a listener it would crash the process.
  pool.on('error', (error) => options.onError?.(error))
  return { db: tenantDrizzle(drizzle(pool, { schema })), pool }
}
