import { tenantDrizzle } from '@tenantscope/drizzle'
import { type ConnectionResolver, createTableDirectory, createTenantRouter, type TenantRouter } from '@tenantscope/router'
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres'
import pg from 'pg'
import { schema } from './schema.js'

export type Database = NodePgDatabase<typeof schema>

export interface DatabaseOptions {
  /** Connections to the primary database (pool and schema tenants). @default 10 */
  max?: number
  /** Connections across all tenant databases at once (the router's cap). @default 10 */
  maxDatabaseConnections?: number
  applicationName?: string
  /**
   * The connection string of a database tenant's database, from its
   * directory key. The directory holds only the key: credentials come from
   * the application (its environment, a secret store), asked each time the
   * tenant's pool opens, and are never written anywhere.
   * @default the application role's own login on the database named by the key
   */
  tenantDatabaseUrl?: (database: string) => string | Promise<string>
  onError?: (error: Error) => void
}

/**
 * A tenant-scoped Drizzle instance over a router: every tenant, whatever
 * its kind (the shared schema under RLS, a schema of its own, a database of
 * its own), is served by the same queries. Where a tenant lives is read from
 * tenantscope.tenant_directory (sql/0007) and cached; a change to a row
 * reaches this process at once (LISTEN/NOTIFY).
 *
 * Connects as the application role (a LOGIN role in tenantscope_app: not
 * superuser, not BYPASSRLS, owns nothing).
 */
export async function createDatabase(
  connectionString: string,
  options: DatabaseOptions = {},
): Promise<{ db: Database; router: TenantRouter }> {
  const applicationName = options.applicationName ?? 'tenantscope-example-api'
  const pool = new pg.Pool({ connectionString, max: options.max ?? 10, application_name: applicationName })
  // An idle connection that the server closes (a restart, a failover) is
  // reported here; without a listener it would crash the process.
  pool.on('error', (error) => options.onError?.(error))
  const tenantDatabaseUrl = options.tenantDatabaseUrl ?? ((database: string) => sameLoginOn(connectionString, database))
  const connectionFor: ConnectionResolver = async (entry) => ({
    connectionString: await tenantDatabaseUrl(entry.database!),
    application_name: applicationName,
  })
  try {
    const directory = await createTableDirectory(pool, { listen: { connectionString, application_name: applicationName } })
    const router = createTenantRouter({
      directory,
      pool,
      databases: { connectionFor, maxConnections: options.maxDatabaseConnections ?? 10 },
    })
    router.on('error', (error: Error) => options.onError?.(error))
    return { db: tenantDrizzle(drizzle(router, { schema })), router }
  } catch (error) {
    await pool.end()
    throw error
  }
}

/** The same server and login, another database. */
export function sameLoginOn(url: string, database: string): string {
  const parsed = new URL(url)
  parsed.pathname = `/${database}`
  return parsed.toString()
}
