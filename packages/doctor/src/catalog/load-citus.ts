import type { DoctorQueryable } from './queryable.js'

/** One row of `tenantscope.citus_audit()` (sql/0005_citus.sql). */
export interface CitusAuditRow {
  /** `schema.table`, quoted as format('%I.%I') does. */
  table: string
  problem: 'not_distributed' | 'distributed_by_other_column' | 'not_colocated' | 'reference_table_with_tenant_rows'
  detail: string
}

/** What the doctor knows of a database where the citus extension is installed. */
export interface CitusCatalog {
  /** tenantscope.citus_audit() exists here (migration 0005) and this connection may run it; without it the table checks cannot run. */
  auditAvailable: boolean
  audit: CitusAuditRow[]
  /** Tables Citus manages (distributed, reference, single-shard), `schema.table`: their policies may not hold sub-selects. */
  distributed: Set<string>
  /** A tenant table in the colocation group that holds most tenant tables (what others should colocate with). */
  colocateWith: string | undefined
  /**
   * The checked role's value of a setting as a new connection of it gets it
   * (ALTER ROLE ... IN DATABASE, ALTER ROLE, ALTER DATABASE, then the server's),
   * for `citus.propagate_set_commands` and `citus.multi_task_query_log_level`.
   */
  propagateSetCommands: string
  multiTaskQueryLogLevel: string
}

/**
 * Undefined unless the citus extension is installed in this database: the
 * Citus checks are silent everywhere else.
 */
export async function loadCitus(db: DoctorQueryable, options: { tenantColumn: string; role: string }): Promise<CitusCatalog | undefined> {
  const { rows } = await db.query(
    `SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') AS citus,
            coalesce(has_function_privilege(to_regprocedure('tenantscope.citus_audit(name)'), 'EXECUTE'), false) AS audit`,
  )
  if (!rows[0].citus) return undefined
  const audit: CitusAuditRow[] = rows[0].audit
    ? (await db.query(`SELECT object_name, problem, detail FROM tenantscope.citus_audit($1)`, [options.tenantColumn])).rows.map((row) => ({
        table: row.object_name,
        problem: row.problem,
        detail: row.detail,
      }))
    : []
  // The group with the most tenant tables distributed by the tenant column, as citus_audit picks it.
  const group = await db.query(
    `SELECT format('%I.%I', n.nspname, c.relname) AS name
       FROM pg_dist_partition d
       JOIN pg_class c ON c.oid = d.logicalrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = $1 AND NOT a.attisdropped
      WHERE d.partmethod = 'h' AND column_to_column_name(d.logicalrelid, d.partkey) = $1
        AND d.colocationid = (SELECT d2.colocationid
                                FROM pg_dist_partition d2
                                JOIN pg_attribute a2 ON a2.attrelid = d2.logicalrelid AND a2.attname = $1 AND NOT a2.attisdropped
                               WHERE d2.partmethod = 'h' AND column_to_column_name(d2.logicalrelid, d2.partkey) = $1
                               GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1)
      ORDER BY 1 LIMIT 1`,
    [options.tenantColumn],
  )
  const distributed = await db.query(
    `SELECT format('%I.%I', n.nspname, c.relname) AS name
       FROM pg_dist_partition d JOIN pg_class c ON c.oid = d.logicalrelid JOIN pg_namespace n ON n.oid = c.relnamespace`,
  )
  const settings = await db.query(
    `SELECT name,
            coalesce((SELECT split_part(entry, '=', 2) FROM pg_db_role_setting s, unnest(s.setconfig) AS entry, pg_database d
                       WHERE d.datname = current_database()
                         AND (s.setrole, s.setdatabase) IN (((SELECT oid FROM pg_roles WHERE rolname = $1), d.oid),
                                                            ((SELECT oid FROM pg_roles WHERE rolname = $1), 0),
                                                            (0, d.oid))
                         AND split_part(entry, '=', 1) = name
                       ORDER BY s.setrole = 0, s.setdatabase = 0 LIMIT 1),
                     -- A value this session has from its own role or database is not the server's: the server's default then.
                     CASE WHEN source IN ('default', 'configuration file', 'command line', 'environment variable') THEN setting
                          ELSE boot_val END) AS value
       FROM pg_settings
      WHERE name IN ('citus.propagate_set_commands', 'citus.multi_task_query_log_level')`,
    [options.role],
  )
  const value = (name: string) => String(settings.rows.find((row) => row.name === name)?.value ?? '')
  return {
    auditAvailable: rows[0].audit,
    audit,
    distributed: new Set(distributed.rows.map((row) => row.name)),
    colocateWith: group.rows[0]?.name,
    propagateSetCommands: value('citus.propagate_set_commands'),
    multiTaskQueryLogLevel: value('citus.multi_task_query_log_level'),
  }
}
