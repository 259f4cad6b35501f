import type pg from 'pg'
import { readStatements, type StatementsReport } from './read-statements.js'

/** One tenant's sessions right now, from pg_stat_activity. */
export interface TenantActivity {
  /** The tenant from `application_name` (see the pool's `activityTag`), or null for untagged sessions. */
  tenant: string | null
  /** Sessions running a statement. */
  running: number
  /** Of those, sessions waiting on a lock, I/O or another backend (not on the client). */
  waiting: number
  /** Sessions idle inside an open transaction. */
  idleInTransaction: number
  /** Seconds the oldest open transaction has run, or null. */
  longestTransactionSeconds: number | null
  /** The most frequent wait event among running sessions (`Lock:transactionid`), or null. */
  topWaitEvent: string | null
}

/** Per-tenant figures from Citus's `citus_stat_tenants`, when Citus tracks tenants. */
export interface CitusTenantStats {
  tenant: string
  queriesInThisPeriod: number
  cpuSecondsInThisPeriod: number
}

export interface ActivitySnapshot {
  at: string
  /** Whether this role sees other roles' sessions (superuser or pg_read_all_stats). */
  seesAllSessions: boolean
  tenants: TenantActivity[]
  citus: CitusTenantStats[] | null
  /** The heaviest statements from pg_stat_statements, per tenant where the placement allows it. */
  statements: StatementsReport
}

// The tag activityTag writes: `<application_name> tenant:<id or digest>`.
const ACTIVITY = `
SELECT substring(application_name FROM '(?:^| )tenant:(\\S+)$') AS tenant,
       count(*) FILTER (WHERE state = 'active')::int AS running,
       count(*) FILTER (WHERE state = 'active' AND wait_event_type IS NOT NULL
                          AND wait_event_type NOT IN ('Client', 'Activity', 'Extension'))::int AS waiting,
       count(*) FILTER (WHERE state LIKE 'idle in transaction%')::int AS idle_in_transaction,
       extract(epoch FROM max(now() - xact_start))::float8 AS longest_transaction_seconds,
       mode() WITHIN GROUP (ORDER BY wait_event_type || ':' || wait_event)
         FILTER (WHERE state = 'active' AND wait_event IS NOT NULL) AS top_wait_event
  FROM pg_stat_activity
 WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND datname = current_database()
 GROUP BY 1
 ORDER BY running DESC, waiting DESC, idle_in_transaction DESC, tenant NULLS LAST`

/**
 * @internal One look at pg_stat_activity (and citus_stat_tenants where Citus
 * is installed, and the `statementLimit` heaviest statements of
 * pg_stat_statements where it is installed and loaded).
 */
export async function readActivity(client: pg.ClientBase, statementLimit = 20): Promise<ActivitySnapshot> {
  const privileged = await client.query<{ sees: boolean; citus: boolean }>(
    `SELECT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) OR pg_has_role('pg_read_all_stats', 'MEMBER') AS sees,
            EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') AS citus`,
  )
  const { sees, citus } = privileged.rows[0]!
  const activity = await client.query(ACTIVITY)
  const tenants = activity.rows.map((row) => ({
    tenant: row.tenant as string | null,
    running: row.running as number,
    waiting: row.waiting as number,
    idleInTransaction: row.idle_in_transaction as number,
    longestTransactionSeconds: row.longest_transaction_seconds as number | null,
    topWaitEvent: row.top_wait_event as string | null,
  }))
  let citusStats: CitusTenantStats[] | null = null
  if (citus) {
    const stats = await client.query(
      `SELECT tenant_attribute AS tenant, query_count_in_this_period::int AS queries, cpu_usage_in_this_period::float8 AS cpu
         FROM citus_stat_tenants ORDER BY query_count_in_this_period DESC LIMIT 50`,
    )
    citusStats = stats.rows.map((row) => ({ tenant: row.tenant, queriesInThisPeriod: row.queries, cpuSecondsInThisPeriod: row.cpu }))
  }
  const statements = await readStatements(client, statementLimit)
  return { at: new Date().toISOString(), seesAllSessions: sees, tenants, citus: citusStats, statements }
}
