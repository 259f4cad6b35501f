import type pg from 'pg'

/**
 * How a statement's figures are tied to a tenant. pg_stat_statements keys
 * its counters by database, role and query, nothing else, so:
 * - `schema`: run as a schema tenant's own role (the router's SET LOCAL ROLE);
 * - `database`: run in a database tenant's own database;
 * - `shared`: run in this database by any other role, pooled tenants among
 *   them. Pooled tenants share one role and one database: their statements
 *   cannot be split per tenant (neither application_name nor a comment is
 *   part of the key), so none is named.
 */
export type StatementAttribution = 'schema' | 'database' | 'shared'

/** One row of pg_stat_statements, with its tenant where the placement tells it. */
export interface TenantStatement {
  /** The tenant from the tenant directory, or null when the row cannot be attributed to one. */
  tenant: string | null
  attribution: StatementAttribution
  database: string
  role: string
  calls: number
  totalMs: number
  meanMs: number
  rows: number
  /** The normalized text (constants as $1…), shortened; `<insufficient privilege>` for other roles' statements unless pg_read_all_stats. */
  query: string
}

export interface StatementsReport {
  /** Why there are no rows (not installed, not loaded, not readable), or null when they were read. */
  unavailable: string | null
  /** The heaviest statements by total execution time. */
  statements: TenantStatement[]
}

const QUERY_CHARS = 200

// Schema tenants are found by their role, database tenants by their database
// (provisioning names the directory's database_key after the database), both
// in this database's tenant directory when it has one. Only a tenant the key
// names alone is attributed: a schema tenant of this database (no region: a
// region's tenants live in another database), and never when two directory
// rows share the role or the database (each statement row stays one row).
// `view` is the extension's view, schema-qualified; `total` its time column.
const STATEMENTS = (directory: boolean, view: string, total: string) => `
WITH s AS (
  SELECT d.datname AS database, r.rolname AS role, s.calls, s.${total} AS total_exec_time, s.rows, s.query
    FROM ${view} s
    LEFT JOIN pg_database d ON d.oid = s.dbid
    LEFT JOIN pg_roles r ON r.oid = s.userid
   ORDER BY s.${total} DESC
   LIMIT $1
)
SELECT s.*,
       ${directory ? 'coalesce(by_role.tenant_id, by_database.tenant_id)' : 'NULL::text'} AS tenant,
       CASE WHEN s.database IS DISTINCT FROM current_database() THEN 'database'
            ${directory ? "WHEN by_role.tenant_id IS NOT NULL THEN 'schema'" : ''}
            ELSE 'shared' END AS attribution
  FROM s
  ${
    directory
      ? `LEFT JOIN LATERAL (
           SELECT CASE WHEN count(*) = 1 THEN min(t.tenant_id) END AS tenant_id FROM tenantscope.tenant_directory t
            WHERE t.strategy = 'schema' AND t.region IS NULL AND t.role_name = s.role AND s.database = current_database()) by_role ON true
         LEFT JOIN LATERAL (
           SELECT CASE WHEN count(*) = 1 THEN min(t.tenant_id) END AS tenant_id FROM tenantscope.tenant_directory t
            WHERE t.strategy = 'database' AND t.database_key = s.database) by_database ON true`
      : ''
  }
 ORDER BY s.total_exec_time DESC`

/**
 * @internal The heaviest statements from pg_stat_statements, attributed per
 * tenant where the placement allows (see StatementAttribution). Never
 * throws for a missing or unloaded extension: says why in `unavailable`.
 */
export async function readStatements(client: pg.ClientBase, limit: number): Promise<StatementsReport> {
  // Where the extension lives (it need not be on the search_path), and its
  // time column: total_exec_time since PostgreSQL 13, total_time before.
  const found = await client.query<{ view: string | null; total: string | null; directory: boolean }>(
    `SELECT (SELECT format('%I.pg_stat_statements', n.nspname) FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
              WHERE e.extname = 'pg_stat_statements') AS view,
            (SELECT a.attname FROM pg_extension e JOIN pg_class c ON c.relnamespace = e.extnamespace AND c.relname = 'pg_stat_statements'
               JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname IN ('total_exec_time', 'total_time') AND NOT a.attisdropped
              WHERE e.extname = 'pg_stat_statements' ORDER BY a.attname = 'total_exec_time' DESC LIMIT 1) AS total,
            coalesce(has_table_privilege(to_regclass('tenantscope.tenant_directory'), 'SELECT'), false) AS directory`,
  )
  const { view, total, directory } = found.rows[0]!
  if (view === null || total === null)
    return { unavailable: 'pg_stat_statements is not installed in this database (CREATE EXTENSION pg_stat_statements)', statements: [] }
  let result: pg.QueryResult
  try {
    result = await client.query(STATEMENTS(directory, view, total), [limit])
  } catch (error) {
    const code = (error as { code?: string }).code
    // 55000: installed but not in shared_preload_libraries; 42501: not allowed to read it.
    if (code === '55000') {
      return {
        unavailable: 'pg_stat_statements is installed but not loaded: add it to shared_preload_libraries and restart',
        statements: [],
      }
    }
    if (code === '42501') return { unavailable: 'this role may not read pg_stat_statements', statements: [] }
    throw error
  }
  return {
    unavailable: null,
    statements: result.rows.map((row) => ({
      tenant: row.tenant,
      attribution: row.attribution,
      database: row.database ?? '',
      role: row.role ?? '',
      calls: Number(row.calls),
      totalMs: row.total_exec_time,
      meanMs: Number(row.calls) > 0 ? row.total_exec_time / Number(row.calls) : 0,
      rows: Number(row.rows),
      query: oneLine(row.query ?? ''),
    })),
  }
}

function oneLine(query: string): string {
  const flat = query.replace(/\s+/g, ' ').trim()
  return flat.length > QUERY_CHARS ? `${flat.slice(0, QUERY_CHARS - 1)}…` : flat
}
