import type { DoctorQueryable } from './queryable.js'
import { SYSTEM_SCHEMAS } from './system-schemas.js'
import { VIEWS_OVER_TABLES } from './views-over-tables.js'

export interface ViewInfo {
  oid: number
  name: string
  kind: 'v' | 'm'
  owner: string
  ownerBypasses: boolean
  securityInvoker: boolean
  /** The tenant tables it reads, directly or through other views. */
  tableOids: number[]
  /** It has the tenant column itself (the test kit can check what it shows per tenant). */
  hasTenantColumn: boolean
  /** `role` may SELECT from it, or from one of its columns (a column grant is enough to read through it). */
  canSelect: boolean
  /** `security_barrier`: the planner keeps the caller's leaky conditions above the view's own filter. */
  securityBarrier: boolean
  /** The relations its own query reads directly (tables, views, materialized views). */
  readsOids: number[]
  /**
   * The roles (or PUBLIC) whose SELECT grant, on it or on one of its columns,
   * reaches `role`, quoted: whom a fix revokes it from (REVOKE on a relation
   * takes its column grants too).
   */
  selectGrantees: string[]
  /** Its query, as pg_get_viewdef prints it. */
  definition: string
}

/** Views and materialized views over the tables `oids`, and views over those views. */
export async function loadViews(db: DoctorQueryable, oids: string[], options: { tenantColumn: string; role: string }): Promise<ViewInfo[]> {
  if (oids.length === 0) return []
  const { rows } = await db.query(
    `${VIEWS_OVER_TABLES}
     SELECT v.oid::int8::text AS oid, format('%I.%I', n.nspname, v.relname) AS name, v.relkind AS kind, pg_get_userbyid(v.relowner) AS owner,
            (o.rolsuper OR o.rolbypassrls) AS owner_bypasses, coalesce(v.reloptions, '{}') AS options,
            EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = v.oid AND a.attname = $2 AND NOT a.attisdropped) AS has_tenant_column,
            has_any_column_privilege($3, v.oid, 'SELECT') AS can_select,
            array_agg(DISTINCT over.table_oid::int8::text) AS table_oids,
            pg_get_viewdef(v.oid) AS definition,
            ARRAY(SELECT DISTINCT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END
                    FROM (SELECT (aclexplode(v.relacl)).*
                          UNION ALL
                          SELECT (aclexplode(c.attacl)).* FROM pg_attribute c WHERE c.attrelid = v.oid AND c.attacl IS NOT NULL) a
                   WHERE a.privilege_type = 'SELECT' AND (a.grantee = 0 OR pg_has_role($3, a.grantee, 'USAGE'))) AS select_grantees,
            ARRAY(SELECT DISTINCT d.refobjid::int8::text FROM pg_rewrite r
                    JOIN pg_depend d ON d.objid = r.oid AND d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
                   WHERE r.ev_class = v.oid AND d.refobjid <> v.oid) AS reads_oids
       FROM over
       JOIN pg_class v ON v.oid = over.view_oid
       JOIN pg_namespace n ON n.oid = v.relnamespace
       JOIN pg_roles o ON o.oid = v.relowner
      WHERE v.relkind IN ('v', 'm') AND ${SYSTEM_SCHEMAS}
      GROUP BY v.oid, n.nspname, v.relname, v.relkind, v.relowner, o.rolsuper, o.rolbypassrls, v.reloptions, v.relacl
      ORDER BY 1`,
    [oids, options.tenantColumn, options.role],
  )
  const flag = (options: string[], name: string) => options.some((option) => new RegExp(`^${name}=(true|on|yes|1)$`, 'i').test(option))
  return rows.map((row) => ({
    oid: Number(row.oid),
    name: row.name,
    kind: row.kind,
    owner: row.owner,
    ownerBypasses: row.owner_bypasses,
    securityInvoker: flag(row.options, 'security_invoker'),
    securityBarrier: flag(row.options, 'security_barrier'),
    tableOids: (row.table_oids as string[]).map(Number),
    hasTenantColumn: row.has_tenant_column,
    canSelect: row.can_select,
    readsOids: (row.reads_oids as string[]).map(Number),
    selectGrantees: row.select_grantees,
    definition: row.definition,
  }))
}
